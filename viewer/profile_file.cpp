#include "profile_file.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "format/dhat_file.hpp"

namespace dhat::viewer {

namespace {

// A count or a time: absent is 0 (an ad hoc file has no lifetimes, dhat-rs writes no timeline);
// present, it must be a whole number from 0 to 2^64-1. Anything else (a string, a negative or
// fractional number, one too big for 64 bits, which the parser reads as floating point) is a
// damaged file, never a silent 0.
std::uint64_t number(const nlohmann::json& object, const char* key, const std::string& path, const std::string& where) {
  const auto found = object.find(key);
  if (found == object.end()) {
    return 0;
  }
  if (!found->is_number_unsigned()) {
    throw ProfileError("'" + path + "' is damaged: " + where + "'" + key + "' is " + found->dump() +
                       ", not a whole number from 0 to 2^64-1");
  }
  return found->get<std::uint64_t>();
}

// Every command adds counters over the file's program points and prints differences as signed
// 64-bit numbers: a file whose sums pass 2^63-1 would print wrapped or negative totals.
void check_sums_fit(const std::vector<ProgramPoint>& pps, const std::string& path) {
  constexpr std::uint64_t kLimit = static_cast<std::uint64_t>(INT64_MAX);
  for (const format::CounterField& field : format::kCounterFields) {
    std::uint64_t sum = 0;
    for (const ProgramPoint& point : pps) {
      const std::uint64_t value = point.*field.member;
      if (value > kLimit - sum) {
        throw ProfileError("'" + path + "' is damaged: its program points' '" + field.key +
                           "' adds up past 2^63-1, more than any heap holds");
      }
      sum += value;
    }
  }
}

// Replaces every byte that does not begin a well-formed UTF-8 sequence (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF) with U+FFFD. Well-formed text is not copied.
void replace_invalid_utf8(std::string& text) {
  const auto byte = [&text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](std::size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  // The length of the well-formed sequence at i, or 0.
  const auto sequence = [&](std::size_t i) -> std::size_t {
    const unsigned char b = byte(i);
    if (b < 0x80) {
      return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
      return continuation(i + 1) ? 2 : 0;
    }
    if (b >= 0xE0 && b <= 0xEF) {
      if (!continuation(i + 1) || !continuation(i + 2)) {
        return 0;
      }
      const unsigned char second = byte(i + 1);
      return (b == 0xE0 && second < 0xA0) || (b == 0xED && second > 0x9F) ? 0 : 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
      if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) {
        return 0;
      }
      const unsigned char second = byte(i + 1);
      return (b == 0xF0 && second < 0x90) || (b == 0xF4 && second > 0x8F) ? 0 : 4;
    }
    return 0;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = sequence(i);
    if (n == 0) {
      break;
    }
    i += n;
  }
  if (i == text.size()) {
    return;  // the usual case: nothing to replace
  }
  std::string repaired(text, 0, i);
  repaired.reserve(text.size() + 64);
  while (i < text.size()) {
    const std::size_t n = sequence(i);
    if (n == 0) {
      repaired += "\xEF\xBF\xBD";
      ++i;
    } else {
      repaired.append(text, i, n);
      i += n;
    }
  }
  text = std::move(repaired);
}

}  // namespace

Profile load_profile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ProfileError("cannot open '" + path + "': " + std::strerror(errno));
  }
  // A DHAT file is a JSON object: anything else is refused at its first bytes, before a large
  // file (gigabytes of NUL bytes, a disk image given by mistake) is read whole.
  char first = ' ';
  while (in.get(first) && (first == ' ' || first == '\n' || first == '\r' || first == '\t')) {
  }
  if (!in) {
    throw ProfileError("'" + path + "' is empty or only white space: not a DHAT profile");
  }
  if (first != '{') {
    throw ProfileError("'" + path +
                       "' is not a DHAT profile: it does not begin with '{' (a DHAT file is one JSON object)");
  }
  std::stringstream text;
  text << first << in.rdbuf();
  std::string contents = text.str();
  // Valgrind writes file names as their bytes: a source file named in Latin-1 gives a profile
  // that is not UTF-8, which the stock viewer loads. Such bytes become U+FFFD, as dhat-cpp's
  // own writer does.
  replace_invalid_utf8(contents);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(contents);
  } catch (const nlohmann::json::parse_error& error) {
    const bool truncated = std::string(error.what()).find("unexpected end of input") != std::string::npos;
    throw ProfileError("'" + path + "' is " + (truncated ? "not complete JSON (truncated?)" : "not JSON") + ": " +
                       error.what());
  }
  if (!doc.is_object() || !doc.contains(format::kVersionKey)) {
    throw ProfileError("'" + path + "' is JSON but not a DHAT profile (no " + format::kVersionKey + ")");
  }
  if (doc[format::kVersionKey] != format::kFileVersion) {
    throw ProfileError("'" + path + "' has DHAT format version " + doc[format::kVersionKey].dump() +
                       "; dhat-view reads version " + std::to_string(format::kFileVersion));
  }
  for (const char* key : {format::kModeKey, format::kProgramPointsKey, format::kFrameTableKey, format::kEndTimeKey}) {
    if (!doc.contains(key)) {
      throw ProfileError("'" + path + "' is not a complete DHAT profile: it has no '" + key + "' field");
    }
  }
  Profile profile;
  profile.path = path;
  profile.mode = doc.value(format::kModeKey, "");
  profile.cmd = doc.value("cmd", "");
  profile.pid = doc.value("pid", 0LL);
  profile.time_unit = doc.value("tu", "");
  profile.bytes_unit = doc.value("bsu", "bytes");
  profile.blocks_unit = doc.value("bksu", "blocks");
  profile.lifetimes = doc.value("bklt", false);
  profile.tg = number(doc, "tg", path, "");
  profile.te = number(doc, format::kEndTimeKey, path, "");
  profile.short_lived = number(doc, "tuth", path, "");
  if (const auto timeline = doc.find(format::kTimelineField); timeline != doc.end() && timeline->is_object()) {
    profile.timeline_bucket = number(*timeline, format::kTimelineBucketKey, path, "the heap timeline's ");
    for (auto* into : {&profile.timeline_max, &profile.timeline_end}) {
      const char* key = into == &profile.timeline_max ? format::kTimelineMaxKey : format::kTimelineEndKey;
      for (const auto& value : timeline->value(key, nlohmann::json::array())) {
        if (!value.is_number_unsigned()) {
          throw ProfileError("'" + path + "' is damaged: its heap timeline holds " + value.dump() +
                             ", not a whole number of bytes");
        }
        into->push_back(value.get<std::uint64_t>());
      }
    }
    if (profile.timeline_max.size() != profile.timeline_end.size()) {
      throw ProfileError("'" + path + "' is damaged: its heap timeline's columns differ in length");
    }
  }
  const auto& ftbl = doc[format::kFrameTableKey];
  for (const auto& pp : doc[format::kProgramPointsKey]) {
    ProgramPoint point;
    const std::string where = "program point " + std::to_string(profile.pps.size()) + "'s ";
    for (const format::CounterField& field : format::kCounterFields) {
      point.*field.member = number(pp, field.key, path, where);
    }
    for (const auto& index : pp.value(format::kFramesKey, nlohmann::json::array())) {
      const std::size_t i = index.get<std::size_t>();
      if (i >= ftbl.size()) {
        throw ProfileError("'" + path + "' is damaged: a program point names frame " + std::to_string(i) + " of " +
                           std::to_string(ftbl.size()));
      }
      point.frames.push_back(ftbl[i].get<std::string>());
    }
    profile.pps.push_back(std::move(point));
  }
  check_sums_fit(profile.pps, path);
  return profile;
}

}  // namespace dhat::viewer
