// The metrics dhat-view sorts and compares by, as in the stock viewer's sort menu.
#pragma once

#include <cstdint>
#include <string>

#include "profile_file.hpp"

namespace dhat::viewer {

enum class Metric { total_bytes, total_blocks, tgmax_bytes, tend_bytes, short_lived, temporary };

// For messages: every metric's name, as parse_metric takes them.
inline constexpr const char* kMetricNames = "total-bytes, total-blocks, tgmax, tend, short-lived, temporary";

// "total-bytes", "total-blocks", "tgmax", "tend", "short-lived", "temporary"; false for anything
// else.
[[nodiscard]] inline bool parse_metric(const std::string& name, Metric* out) {
  if (name == "total-bytes")
    *out = Metric::total_bytes;
  else if (name == "total-blocks")
    *out = Metric::total_blocks;
  else if (name == "tgmax")
    *out = Metric::tgmax_bytes;
  else if (name == "tend")
    *out = Metric::tend_bytes;
  else if (name == "short-lived")
    *out = Metric::short_lived;
  else if (name == "temporary")
    *out = Metric::temporary;
  else
    return false;
  return true;
}

inline std::string metric_label(Metric metric) {
  switch (metric) {
    case Metric::total_bytes:
      return "total bytes";
    case Metric::total_blocks:
      return "total blocks";
    case Metric::tgmax_bytes:
      return "bytes at t-gmax";
    case Metric::tend_bytes:
      return "bytes at t-end";
    case Metric::short_lived:
      return "short-lived blocks";
    case Metric::temporary:
      return "temporary blocks";
  }
  return "";
}

// The value a program point contributes to `metric` (short-lived: its blocks if their average
// lifetime is within the profile's threshold, else 0).
inline std::uint64_t metric_value(const Profile& profile, const ProgramPoint& pp, Metric metric) {
  switch (metric) {
    case Metric::total_bytes:
      return pp.tb;
    case Metric::total_blocks:
      return pp.tbk;
    case Metric::tgmax_bytes:
      return pp.gb;
    case Metric::tend_bytes:
      return pp.eb;
    case Metric::short_lived:
      return profile.lifetimes && pp.tbk != 0 && pp.tl / pp.tbk <= profile.short_lived ? pp.tbk : 0;
    case Metric::temporary:
      return pp.tmpbk;
  }
  return 0;
}

// Whether `metric` counts blocks (else bytes, or an ad hoc profile's units).
inline bool counts_blocks(Metric metric) {
  return metric == Metric::total_blocks || metric == Metric::short_lived || metric == Metric::temporary;
}

// Why `profile` cannot be read by `metric`, or "" if it can: an ad hoc profile has no heap
// state, and only dhat-cpp's heap profiles count temporary blocks.
inline std::string metric_unavailable(const Profile& profile, Metric metric) {
  if (metric == Metric::temporary && !profile.has_temporary) {
    return "'" + profile.path + "' has no temporary blocks (tmpbk): only dhat-cpp's heap profiles count them";
  }
  if (!profile.lifetimes && metric != Metric::total_bytes && metric != Metric::total_blocks) {
    return "'" + profile.path + "' is an ad hoc profile: it has no " + metric_label(metric) +
           " (use total-bytes or total-blocks)";
  }
  return "";
}

}  // namespace dhat::viewer
