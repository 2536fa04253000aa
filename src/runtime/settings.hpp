// The settings of one run: Options from the code, then the environment, then the defaults.
//
// Contract: never fails; a malformed environment value is reported with one `dhat:` line on
// stderr and replaced by the default.
#pragma once

#include <cstddef>
#include <string>

#include "dhat/dhat.hpp"

namespace dhat::runtime {

inline constexpr const char* kDefaultFileName = "dhat-heap.json";
inline constexpr const char* kDefaultAdHocFileName = "dhat-ad-hoc.json";
inline constexpr const char* kDefaultPreloadFileName = "dhat-heap.%p.json";
inline constexpr const char* kDefaultSnapshotFileName = "dhat-snapshot.%p.json";
inline constexpr std::size_t kDefaultMaxFrames = 12;  // Valgrind DHAT's depth

struct RunSettings {
  std::string file_name;        // absolute once the run has started (start_run)
  std::string start_directory;  // the working directory when the run started: relative names
                                // mean a place there, even if the program changes directory
  std::size_t max_frames = kDefaultMaxFrames;
  bool testing = false;
  bool ad_hoc = false;
  bool quiet_private = false;    // a run started by a Section or check: never writes, never prints
  bool libgcc_unwinder = false;  // DHAT_UNWINDER=libgcc: the slow reference unwinder
  bool report_timing = false;    // DHAT_TIMING=1: say how long symbolizing and writing took
};

// Reads DHAT_OUT and DHAT_MAX_FRAMES where `options` leaves a field unset.
RunSettings resolve_settings(const Options& options);

// The output path with every %p replaced by the process id (and %% by %).
std::string expand_file_pattern(const std::string& pattern, long pid);

}  // namespace dhat::runtime
