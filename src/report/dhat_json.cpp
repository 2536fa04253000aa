#include "report/dhat_json.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>

#include "format/counters.hpp"
#include "format/dhat_file.hpp"

namespace dhat::report {

namespace {

void append_decimal(std::string& text, std::uint64_t value) {
  char digits[20];  // 2^64 - 1 has 20
  const std::to_chars_result end = std::to_chars(std::begin(digits), std::end(digits), value);
  text.append(digits, end.ptr);
}

// Each counter's `,"key":` (the first one's without the comma) made once from the counter
// list, so that the per-point loop appends text of known length (many_stacks writes 65,553
// points: a strlen per key was 2% of its run).
struct KeyText {
  char text[16] = {};
  std::size_t size = 0;
};
constexpr std::array<KeyText, format::kCounterCount> make_key_texts() {
  std::array<KeyText, format::kCounterCount> out{};
  for (std::size_t i = 0; i < format::kCounterCount; ++i) {
    KeyText& key = out[i];
    if (i != 0) {  // the first counter follows the program point's brace
      key.text[key.size++] = ',';
    }
    key.text[key.size++] = '"';
    for (const char* c = format::kCounterFields[i].key; *c != '\0'; ++c) {
      key.text[key.size++] = *c;
    }
    key.text[key.size++] = '"';
    key.text[key.size++] = ':';
  }
  return out;
}
constexpr std::array<KeyText, format::kCounterCount> kKeyTexts = make_key_texts();
static_assert(!format::kCounterFields[0].lifetimes, "the first counter is in every file: it takes no comma");

constexpr std::size_t kPieceBytes = std::size_t{64} << 10;

// Hands `text` to the sink once it has grown to a piece's size.
void pass_on_if_full(std::string& text, const TextSink& sink) {
  if (text.size() >= kPieceBytes) {
    sink(text);
    text.clear();
  }
}

// One program point per line, fields in dh_view's order (format/counters.hpp), as nlohmann's
// compact dump prints them.
void append_program_points(std::string& text, const ProgramPoints& points, bool ad_hoc, const TextSink& sink) {
  if (points.pps.empty()) {
    text += "[]";
    return;
  }
  text += '[';
  for (std::size_t i = 0; i < points.pps.size(); ++i) {
    const ProgramPoint& point = points.pps[i];
    text += i == 0 ? "\n  {" : ",\n  {";
    for (std::size_t f = 0; f < format::kCounterCount; ++f) {
      const format::CounterField& field = format::kCounterFields[f];
      if (!field.lifetimes || !ad_hoc) {
        text.append(kKeyTexts[f].text, kKeyTexts[f].size);
        append_decimal(text, point.totals.*field.member);
      }
    }
    text += ",\"";
    text += format::kFramesKey;
    text += "\":[";
    for (const FrameId* id = points.frames_begin(point); id != points.frames_end(point); ++id) {
      if (id != points.frames_begin(point)) {
        text += ',';
      }
      append_decimal(text, *id);
    }
    text += "]}";
    pass_on_if_full(text, sink);
  }
  text += "\n]";
}

void append_frame_table(std::string& text, const ProgramPoints& points, const TextSink& sink) {
  if (points.ftbl.empty()) {
    text += "[]";
    return;
  }
  text += '[';
  for (std::size_t i = 0; i < points.ftbl.size(); ++i) {
    text += i == 0 ? "\n  " : ",\n  ";
    text += nlohmann::json(points.ftbl[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    pass_on_if_full(text, sink);
  }
  text += "\n]";
}

void append_numbers(std::string& text, const std::vector<std::uint64_t>& numbers) {
  text += '[';
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (i != 0) {
      text += ',';
    }
    append_decimal(text, numbers[i]);
  }
  text += ']';
}

// ,\n"NAME":{"bucketUs":N,"maxBytes":[...],"endBytes":[...](,"peakBytes":N)}
void append_levels(std::string& text, const char* name, const HeapTimeline& levels, const std::uint64_t* peak) {
  text += std::string(",\n\"") + name + "\":{\"" + format::kTimelineBucketKey + "\":";
  append_decimal(text, levels.bucket_us);
  text += std::string(",\"") + format::kTimelineMaxKey + "\":";
  append_numbers(text, levels.max_bytes);
  text += std::string(",\"") + format::kTimelineEndKey + "\":";
  append_numbers(text, levels.end_bytes);
  if (peak != nullptr) {
    text += std::string(",\"") + format::kRssPeakKey + "\":";
    append_decimal(text, *peak);
  }
  text += '}';
}

}  // namespace

void stream_dhat_json(const ProfileHeader& header, const ProgramPoints& points, const TextSink& sink) {
  nlohmann::ordered_json doc;
  doc[format::kVersionKey] = format::kFileVersion;
  doc[format::kModeKey] = header.mode;
  doc["verb"] = "Allocated";
  doc["bklt"] = !header.ad_hoc;
  doc["bkacc"] = false;
  if (header.ad_hoc) {
    doc["bu"] = "unit";
    doc["bsu"] = "units";
    doc["bksu"] = "events";
  }
  doc["tu"] = format::kTimeUnit;
  doc["Mtu"] = format::kMillionTimeUnit;
  if (!header.ad_hoc) {
    doc["tuth"] = format::kShortLivedUs;  // as dhat-rs
  }
  doc["cmd"] = header.cmd;
  doc["pid"] = header.pid;
  if (!header.ad_hoc) {
    doc["tg"] = header.tg_us;
  }
  doc[format::kEndTimeKey] = header.te_us;
  // The program points and frames are written below, straight into the text: a document tree
  // of 100,000 program points would cost more memory than the heap model.
  doc[format::kProgramPointsKey] = nullptr;
  doc[format::kFrameTableKey] = nullptr;
  // One PP per line keeps the file small yet readable with grep and diff.
  std::string text = "{";
  bool first = true;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    text += first ? "\n" : ",\n";
    first = false;
    text += nlohmann::ordered_json(it.key()).dump() + ":";
    if (it.key() == format::kProgramPointsKey) {
      append_program_points(text, points, header.ad_hoc, sink);
    } else if (it.key() == format::kFrameTableKey) {
      append_frame_table(text, points, sink);
    } else if (it->is_array() && !it->empty()) {
      text += "[";
      for (std::size_t i = 0; i < it->size(); ++i) {
        text += (i == 0 ? "\n  " : ",\n  ") + (*it)[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      text += "\n]";
    } else {
      text += it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  // The timelines last, written straight as numbers (through a document tree, 2 x 512 numbers
  // cost more than the rest of a small profile's header).
  if (!header.ad_hoc && !header.timeline.max_bytes.empty()) {
    append_levels(text, format::kTimelineField, header.timeline, nullptr);
  }
  if (!header.ad_hoc && !header.rss.levels.max_bytes.empty()) {
    append_levels(text, format::kRssField, header.rss.levels, &header.rss.peak_bytes);
  }
  text += "\n}\n";
  sink(text);
}

std::string to_dhat_json(const ProfileHeader& header, const ProgramPoints& points) {
  std::string whole;
  stream_dhat_json(header, points, [&whole](const std::string& piece) { whole += piece; });
  return whole;
}

std::string write_dhat_json_file(const std::string& path, const ProfileHeader& header, const ProgramPoints& points) {
  return write_output_file(path, [&](const TextSink& sink) { stream_dhat_json(header, points, sink); });
}

}  // namespace dhat::report
