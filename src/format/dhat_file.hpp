// The top-level vocabulary of a DHAT file (format version 2, shared/spec/dhat-format.md) that the
// profiler's writer and dhat-view's reader share, and the extra field dhat-cpp adds.
//
// Contract: constants only. The stock viewer ignores fields it does not know, so dhat-cpp's heap
// timeline and RSS travel in `kTimelineField` and `kRssField` without breaking it.
#pragma once

#include <cstdint>

namespace dhat::format {

inline constexpr int kFileVersion = 2;  // the only version dh_view accepts

// Top-level keys a reader needs before it can make sense of the program points.
inline constexpr const char* kVersionKey = "dhatFileVersion";
inline constexpr const char* kModeKey = "mode";
inline constexpr const char* kProgramPointsKey = "pps";
inline constexpr const char* kFrameTableKey = "ftbl";
inline constexpr const char* kFramesKey = "fs";  // a program point's frames: indices into ftbl
inline constexpr const char* kEndTimeKey = "te";
inline constexpr const char* kRootFrame = "[root]";  // ftbl[0]; no program point names it

// Heap profiles: time in microseconds since the profiler started (dhat-rs's unit), and the
// "short-lived" threshold the stock viewer's sort menu uses.
inline constexpr const char* kTimeUnit = "µs";
inline constexpr const char* kMillionTimeUnit = "s";
inline constexpr std::uint64_t kShortLivedUs = 10;

// dhat-cpp's heap timeline: bucket width in µs, and per bucket the most live bytes seen in it
// and the live bytes at its end (two arrays of equal length).
inline constexpr const char* kTimelineField = "dhatCppTimeline";
inline constexpr const char* kTimelineBucketKey = "bucketUs";
inline constexpr const char* kTimelineMaxKey = "maxBytes";
inline constexpr const char* kTimelineEndKey = "endBytes";

// dhat-cpp's record of the process's resident memory (RSS) over the same run, read from
// /proc/self/statm as the heap changed: the same three keys as the heap timeline (its own bucket
// width; a bucket without a reading holds 0 in both arrays), and the run's peak RSS in bytes.
// The whole process's, the profiler's own tables included.
inline constexpr const char* kRssField = "dhatCppRss";
inline constexpr const char* kRssPeakKey = "peakBytes";

}  // namespace dhat::format
