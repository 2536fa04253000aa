// Reading any DHAT file (dhat-cpp's, `valgrind --tool=dhat`'s, dhat-rs's) for the dhat-view tool.
//
// Contract: `load_profile` either returns a checked Profile or throws ProfileError with a
// sentence for the user (missing file, not JSON, truncated, not DHAT, another format version, a
// count that is not a whole number from 0 to 2^64-1, counts whose sums pass 2^63-1). Bytes that
// are not UTF-8 (a Latin-1 file name in a Valgrind file) are read as U+FFFD, not refused.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "format/counters.hpp"

namespace dhat::viewer {

struct ProfileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The nine counters (pp.tb, pp.gb, ...) and the frames' text.
struct ProgramPoint : format::PpTotals {
  std::vector<std::string_view> frames;  // innermost first, into the profile's frame table
};

// A quantity over the run in buckets of equal width (dhat-cpp's timelines): per bucket the most
// seen in it and the level at its end.
struct Levels {
  std::uint64_t bucket = 0;  // width, in the file's time unit
  std::vector<std::uint64_t> max, end;
};

// Move-only: the program points' frames point into `frame_table`, whose strings stay where they
// are when the profile moves (and would not in a copy).
struct Profile {
  Profile() = default;
  Profile(const Profile&) = delete;
  Profile& operator=(const Profile&) = delete;
  Profile(Profile&&) = default;
  Profile& operator=(Profile&&) = default;
  ~Profile() = default;

  std::string path;
  std::string mode, cmd, time_unit, bytes_unit = "bytes", blocks_unit = "blocks";
  long long pid = 0;
  bool lifetimes = false;      // bklt
  bool has_temporary = false;  // dhat-cpp's tmpbk (temporary blocks) is in the file
  std::uint64_t tg = 0, te = 0, short_lived = 0;
  std::vector<std::string> frame_table;  // ftbl
  std::vector<ProgramPoint> pps;
  // dhat-cpp's heap timeline and the process's resident memory (empty for other tools' files).
  Levels timeline;
  Levels rss;
  std::uint64_t peak_rss = 0;  // 0: not recorded
};

[[nodiscard]] Profile load_profile(const std::string& path);

}  // namespace dhat::viewer
