#include "profile_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "format/dhat_file.hpp"

namespace dhat::viewer {

namespace {

std::uint64_t number(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
}

}  // namespace

Profile load_profile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ProfileError("cannot open '" + path + "': " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
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
  profile.tg = number(doc, "tg");
  profile.te = number(doc, format::kEndTimeKey);
  profile.short_lived = number(doc, "tuth");
  if (const auto timeline = doc.find(format::kTimelineField); timeline != doc.end() && timeline->is_object()) {
    profile.timeline_bucket = number(*timeline, format::kTimelineBucketKey);
    for (auto* into : {&profile.timeline_max, &profile.timeline_end}) {
      const char* key = into == &profile.timeline_max ? format::kTimelineMaxKey : format::kTimelineEndKey;
      for (const auto& value : timeline->value(key, nlohmann::json::array())) {
        into->push_back(value.is_number_unsigned() ? value.get<std::uint64_t>() : 0);
      }
    }
    if (profile.timeline_max.size() != profile.timeline_end.size()) {
      throw ProfileError("'" + path + "' is damaged: its heap timeline's columns differ in length");
    }
  }
  const auto& ftbl = doc[format::kFrameTableKey];
  for (const auto& pp : doc[format::kProgramPointsKey]) {
    ProgramPoint point;
    for (const format::CounterField& field : format::kCounterFields) {
      point.*field.member = number(pp, field.key);
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
  return profile;
}

}  // namespace dhat::viewer
