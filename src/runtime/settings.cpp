#include "runtime/settings.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/stack_capture.hpp"
#include "format/numbers.hpp"

namespace dhat::runtime {

std::string expand_file_pattern(const std::string& pattern, long pid) {
  std::string path;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && (pattern[i + 1] == 'p' || pattern[i + 1] == '%')) {
      path += pattern[i + 1] == 'p' ? std::to_string(pid) : "%";
      ++i;
    } else {
      path += pattern[i];
    }
  }
  return path;
}

RunSettings resolve_settings(const Options& options) {
  RunSettings settings;
  settings.testing = options.testing;
  settings.ad_hoc = options.ad_hoc;
  settings.file_name = options.file_name;
  if (settings.file_name.empty()) {
    const char* fallback = options.ad_hoc ? kDefaultAdHocFileName : kDefaultFileName;
    const char* from_env = std::getenv("DHAT_OUT");
    if (from_env != nullptr && *from_env == '\0') {
      std::fprintf(stderr, "dhat: DHAT_OUT is empty; writing to %s\n", fallback);
    }
    settings.file_name = from_env != nullptr && *from_env != '\0' ? from_env : fallback;
  }
  settings.max_frames = options.max_frames;
  if (settings.max_frames == 0) {
    const char* from_env = std::getenv("DHAT_MAX_FRAMES");
    std::uint64_t parsed = 0;
    if (from_env == nullptr) {
      settings.max_frames = kDefaultMaxFrames;
    } else if (format::parse_decimal(from_env, 1, core::kMaxFramesLimit, &parsed)) {
      settings.max_frames = parsed;
    } else {
      std::fprintf(stderr, "dhat: ignoring DHAT_MAX_FRAMES='%s': expected a whole number from 1 to %zu; using %zu\n",
                   from_env, core::kMaxFramesLimit, kDefaultMaxFrames);
      settings.max_frames = kDefaultMaxFrames;
    }
  } else if (settings.max_frames > core::kMaxFramesLimit) {
    std::fprintf(stderr, "dhat: trim_backtraces(%zu) is above the limit; using %zu\n", settings.max_frames,
                 core::kMaxFramesLimit);
    settings.max_frames = core::kMaxFramesLimit;
  }
  if (const char* unwinder = std::getenv("DHAT_UNWINDER"); unwinder != nullptr) {
    if (std::strcmp(unwinder, "libgcc") == 0) {
      settings.libgcc_unwinder = true;
    } else if (std::strcmp(unwinder, "cfi") != 0) {
      std::fprintf(stderr, "dhat: ignoring DHAT_UNWINDER='%s': expected cfi or libgcc; using cfi\n", unwinder);
    }
  }
  if (const char* timing = std::getenv("DHAT_TIMING"); timing != nullptr) {
    if (std::strcmp(timing, "1") == 0) {
      settings.report_timing = true;
    } else if (std::strcmp(timing, "0") != 0) {
      std::fprintf(stderr, "dhat: ignoring DHAT_TIMING='%s': expected 0 or 1; using 0\n", timing);
    }
  }
  return settings;
}

}  // namespace dhat::runtime
