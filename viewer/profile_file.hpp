// Reading any DHAT file (dhat-cpp's, `valgrind --tool=dhat`'s, dhat-rs's) for the dhat-view tool.
//
// Contract: `load_profile` either returns a checked Profile or throws ProfileError with a
// sentence for the user (missing file, not JSON, truncated, not DHAT, another format version).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dhat_view {

struct ProfileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ProgramPoint {
  std::uint64_t tb = 0, tbk = 0, tl = 0, mb = 0, mbk = 0, gb = 0, gbk = 0, eb = 0, ebk = 0;
  std::vector<std::string> frames;  // innermost first
};

struct Profile {
  std::string path;
  std::string mode, cmd, time_unit, bytes_unit = "bytes", blocks_unit = "blocks";
  long long pid = 0;
  bool lifetimes = false;  // bklt
  std::uint64_t tg = 0, te = 0, short_lived = 0;
  std::vector<ProgramPoint> pps;
  // dhat-cpp's heap timeline (empty for other profilers' files).
  std::uint64_t timeline_bucket = 0;
  std::vector<std::uint64_t> timeline_max, timeline_end;
};

Profile load_profile(const std::string& path);

// A frame without its address ("0x4C2DB8F: f (a.c:3)" -> "f (a.c:3)"): what matches across runs.
std::string frame_without_address(const std::string& frame);

}  // namespace dhat_view
