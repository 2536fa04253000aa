#include "profile_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "format/dhat_file.hpp"

namespace dhat::viewer {

namespace {

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

// The JSON text of a value that should have been a count, for the message saying it is not one.
std::string shown(const nlohmann::json& value) { return value.dump(); }

// Builds a Profile straight from the parser's events (nlohmann's SAX interface): no document
// tree, whose nodes took about 12 times the file's size (1M program points, 136 MB: 1.6 GB), and
// whose destructor itself allocates (it died of an uncaught std::bad_alloc under a memory limit
// instead of saying so). Program points keep frame numbers until the frame table is read (it may
// come after them); errors in values are kept until the end, so that a file that is not DHAT at
// all, or is cut short, is said to be that first.
class ProfileBuilder final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit ProfileBuilder(Profile& profile) : profile_(profile) {}

  // Where the parser is: what each open object or array is.
  enum class Place { top, pps, pp, pp_frames, ftbl, timeline, rss, levels_max, levels_end, skipped };

  bool null() override { return scalar(nlohmann::json(nullptr)); }
  bool boolean(bool value) override { return scalar(nlohmann::json(value)); }
  bool number_integer(number_integer_t value) override { return scalar(nlohmann::json(value)); }
  bool number_unsigned(number_unsigned_t value) override { return scalar(nlohmann::json(value)); }
  bool number_float(number_float_t value, const string_t&) override { return scalar(nlohmann::json(value)); }
  bool string(string_t& value) override {
    if (place() == Place::ftbl) {
      profile_.frame_table.push_back(std::move(value));
      return true;
    }
    return scalar(nlohmann::json(std::move(value)));
  }
  bool binary(binary_t&) override { return scalar(nlohmann::json()); }

  bool start_object(std::size_t) override {
    Place next = Place::skipped;
    if (places_.empty()) {
      next = Place::top;
    } else if (place() == Place::pps) {
      profile_.pps.emplace_back();
      frame_ids_.emplace_back();
      next = Place::pp;
    } else if (place() == Place::top && key_ == format::kTimelineField) {
      next = Place::timeline;
      levels_ = &profile_.timeline;
    } else if (place() == Place::top && key_ == format::kRssField) {
      next = Place::rss;
      levels_ = &profile_.rss;
    } else if (wants_count()) {
      mismatch(nlohmann::json::object());  // an object where a count belongs
    }
    places_.push_back(next);
    return true;
  }
  bool end_object() override {
    places_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    Place next = Place::skipped;
    if (place() == Place::top && key_ == format::kProgramPointsKey) {
      has_pps_ = true;
      next = Place::pps;
    } else if (place() == Place::top && key_ == format::kFrameTableKey) {
      has_ftbl_ = true;
      next = Place::ftbl;
    } else if (place() == Place::pp && key_ == format::kFramesKey) {
      next = Place::pp_frames;
    } else if (in_levels() && key_ == format::kTimelineMaxKey) {
      next = Place::levels_max;
    } else if (in_levels() && key_ == format::kTimelineEndKey) {
      next = Place::levels_end;
    } else if (wants_count()) {
      mismatch(nlohmann::json::array());  // an array where a count belongs
    }
    places_.push_back(next);
    return true;
  }
  bool end_array() override {
    places_.pop_back();
    return true;
  }
  bool key(string_t& name) override {
    key_ = std::move(name);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
    parse_error_ = error.what();
    return false;
  }

  const std::string& parse_error_text() const { return parse_error_; }
  const std::string& value_error() const { return value_error_; }
  bool has_version() const { return has_version_; }
  const nlohmann::json& version() const { return version_; }
  bool has_mode() const { return has_mode_; }
  bool has_pps() const { return has_pps_; }
  bool has_ftbl() const { return has_ftbl_; }
  bool has_end_time() const { return has_end_time_; }
  std::vector<std::vector<std::uint32_t>>& frame_ids() { return frame_ids_; }

 private:
  Place place() const { return places_.empty() ? Place::skipped : places_.back(); }
  bool in_levels() const { return place() == Place::timeline || place() == Place::rss; }
  const char* levels_name() const {
    return places_.size() >= 2 && places_[1] == Place::rss ? "resident memory record" : "heap timeline";
  }

  // Whether the value about to come must be a count (other fields, and fields of other tools'
  // files, such as Valgrind's access histograms, are not ours to judge).
  bool wants_count() const {
    switch (place()) {
      case Place::top:
        return key_ == "tg" || key_ == format::kEndTimeKey || key_ == "tuth";
      case Place::pp:
        return std::any_of(std::begin(format::kCounterFields), std::end(format::kCounterFields),
                           [this](const format::CounterField& field) { return key_ == field.key; });
      case Place::timeline:
        return key_ == format::kTimelineBucketKey;
      case Place::rss:
        return key_ == format::kTimelineBucketKey || key_ == format::kRssPeakKey;
      case Place::pp_frames:
      case Place::levels_max:
      case Place::levels_end:
      case Place::ftbl:
        return true;
      case Place::pps:
      case Place::skipped:
        return false;
    }
    return false;
  }

  // A value that is not what its place needs: the first one is kept for the message.
  void mismatch(const nlohmann::json& value) {
    if (!value_error_.empty()) {
      return;
    }
    if (place() == Place::pp) {
      value_error_ =
          "program point " + std::to_string(profile_.pps.size() - 1) + "'s '" + key_ + "' is " + describe(value);
    } else if (place() == Place::levels_max || place() == Place::levels_end) {
      value_error_ =
          std::string("@its ") + levels_name() + " holds " + describe(value) + ", not a whole number of bytes";
    } else if (in_levels()) {
      value_error_ = std::string("the ") + levels_name() + "'s '" + key_ + "' is " + describe(value);
    } else if (place() == Place::pp_frames) {
      value_error_ = "@a program point's frames hold " + describe(value) + ", not a frame number";
    } else if (place() == Place::ftbl) {
      value_error_ = "@its frame table holds " + describe(value) + ", not a frame's text";
    } else {
      value_error_ = "'" + key_ + "' is " + describe(value);
    }
  }
  static std::string describe(const nlohmann::json& value) {
    return value.is_array() ? std::string("an array") : value.is_object() ? std::string("an object") : shown(value);
  }

  // A count or a time: present, it must be a whole number from 0 to 2^64-1. Anything else (a
  // string, a negative or fractional number, one too big for 64 bits, which the parser reads as
  // floating point) is a damaged file, never a silent 0.
  bool count(const nlohmann::json& value, std::uint64_t* out) {
    if (!value.is_number_unsigned()) {
      mismatch(value);
      return false;
    }
    *out = value.get<std::uint64_t>();
    return true;
  }

  bool scalar(const nlohmann::json& value) {
    switch (place()) {
      case Place::top:
        top_level(value);
        return true;
      case Place::pp:
        for (const format::CounterField& field : format::kCounterFields) {
          if (key_ == field.key) {
            count(value, &(profile_.pps.back().*field.member));
            profile_.has_temporary = profile_.has_temporary || field.extension;
            return true;
          }
        }
        return true;  // another field: not ours to read
      case Place::pp_frames: {
        std::uint64_t index = 0;
        if (count(value, &index)) {
          frame_ids_.back().push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(index, UINT32_MAX)));
        }
        return true;
      }
      case Place::ftbl:
        mismatch(value);
        return true;
      case Place::timeline:
      case Place::rss:
        if (key_ == format::kTimelineBucketKey) {
          count(value, &levels_->bucket);
        } else if (place() == Place::rss && key_ == format::kRssPeakKey) {
          count(value, &profile_.peak_rss);
        }
        return true;
      case Place::levels_max:
      case Place::levels_end: {
        std::uint64_t bytes = 0;
        if (count(value, &bytes)) {
          (place() == Place::levels_max ? levels_->max : levels_->end).push_back(bytes);
        }
        return true;
      }
      case Place::pps:
        mismatch(value);
        return true;
      case Place::skipped:
        return true;
    }
    return true;
  }

  void top_level(const nlohmann::json& value) {
    const auto text = [&value](std::string* out) {
      if (value.is_string()) {
        *out = value.get<std::string>();
      }
    };
    if (key_ == format::kVersionKey) {
      has_version_ = true;
      version_ = value;
    } else if (key_ == format::kModeKey) {
      has_mode_ = true;
      text(&profile_.mode);
    } else if (key_ == "cmd") {
      text(&profile_.cmd);
    } else if (key_ == "tu") {
      text(&profile_.time_unit);
    } else if (key_ == "bsu") {
      text(&profile_.bytes_unit);
    } else if (key_ == "bksu") {
      text(&profile_.blocks_unit);
    } else if (key_ == "pid") {
      if (value.is_number_integer()) {
        profile_.pid = value.get<long long>();
      }
    } else if (key_ == "bklt") {
      profile_.lifetimes = value.is_boolean() && value.get<bool>();
    } else if (key_ == "tg") {
      count(value, &profile_.tg);
    } else if (key_ == format::kEndTimeKey) {
      has_end_time_ = true;
      count(value, &profile_.te);
    } else if (key_ == "tuth") {
      count(value, &profile_.short_lived);
    }
  }

  Profile& profile_;
  std::vector<Place> places_;
  std::string key_;
  std::vector<std::vector<std::uint32_t>> frame_ids_;  // per program point, until ftbl is known
  std::string parse_error_;
  std::string value_error_;  // "@..." is said after "is damaged: ", else after "is damaged: " too
  nlohmann::json version_;
  Levels* levels_ = nullptr;  // the timeline being read (heap or RSS)
  bool has_version_ = false, has_mode_ = false, has_pps_ = false, has_ftbl_ = false, has_end_time_ = false;
};

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
  std::string contents(1, first);
  {
    std::stringstream text;
    text << in.rdbuf();
    contents += text.str();
  }
  // Valgrind writes file names as their bytes: a source file named in Latin-1 gives a profile
  // that is not UTF-8, which the stock viewer loads. Such bytes become U+FFFD, as dhat-cpp's
  // own writer does.
  replace_invalid_utf8(contents);
  Profile profile;
  profile.path = path;
  ProfileBuilder builder(profile);
  const bool parsed = nlohmann::json::sax_parse(contents, &builder);
  contents.clear();
  contents.shrink_to_fit();
  if (!parsed) {
    const std::string& error = builder.parse_error_text();
    const bool truncated = error.find("unexpected end of input") != std::string::npos;
    throw ProfileError("'" + path + "' is " + (truncated ? "not complete JSON (truncated?)" : "not JSON") + ": " +
                       error);
  }
  if (!builder.has_version()) {
    throw ProfileError("'" + path + "' is JSON but not a DHAT profile (no " + format::kVersionKey + ")");
  }
  if (builder.version() != format::kFileVersion) {
    throw ProfileError("'" + path + "' has DHAT format version " + builder.version().dump() +
                       "; dhat-view reads version " + std::to_string(format::kFileVersion));
  }
  const std::pair<bool, const char*> required[] = {{builder.has_mode(), format::kModeKey},
                                                   {builder.has_pps(), format::kProgramPointsKey},
                                                   {builder.has_ftbl(), format::kFrameTableKey},
                                                   {builder.has_end_time(), format::kEndTimeKey}};
  for (const auto& [present, key] : required) {
    if (!present) {
      throw ProfileError("'" + path + "' is not a complete DHAT profile: it has no '" + key + "' field");
    }
  }
  if (const std::string& error = builder.value_error(); !error.empty()) {
    throw ProfileError("'" + path + "' is damaged: " + (error[0] == '@' ? error.substr(1) : error) +
                       (error[0] == '@' ? "" : ", not a whole number from 0 to 2^64-1"));
  }
  if (profile.timeline.max.size() != profile.timeline.end.size()) {
    throw ProfileError("'" + path + "' is damaged: its heap timeline's columns differ in length");
  }
  if (profile.rss.max.size() != profile.rss.end.size()) {
    throw ProfileError("'" + path + "' is damaged: its resident memory record's columns differ in length");
  }
  std::vector<std::vector<std::uint32_t>>& frame_ids = builder.frame_ids();
  for (std::size_t p = 0; p < profile.pps.size(); ++p) {
    ProgramPoint& point = profile.pps[p];
    point.frames.reserve(frame_ids[p].size());
    for (const std::uint32_t i : frame_ids[p]) {
      if (i >= profile.frame_table.size()) {
        throw ProfileError("'" + path + "' is damaged: a program point names frame " + std::to_string(i) + " of " +
                           std::to_string(profile.frame_table.size()));
      }
      point.frames.emplace_back(profile.frame_table[i]);
    }
    std::vector<std::uint32_t>().swap(frame_ids[p]);  // given back as the frames are resolved
  }
  check_sums_fit(profile.pps, path);
  return profile;
}

}  // namespace dhat::viewer
