// The DHAT file (format version 2, shared/spec/dhat-format.md) and writing it safely.
//
// Contract: `to_dhat_json` produces every field the stock dh_view checks, for a heap profile
// (bklt true, bkacc false) and for an ad hoc one (bklt false; unit, units, events, as dhat-rs).
// `write_dhat_json_file` streams the text to the output (output_file.hpp: a temporary file
// renamed over a regular target, a device or FIFO written in place) in 64 KiB pieces: the whole
// text of 65,000 program points held as one string was 8 MB, 16 MB of memory with its growth, a
// fifth of such a profile's peak.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "report/output_file.hpp"
#include "report/program_points.hpp"

namespace dhat::report {

// The heap's size over the run (core/timeline.hpp), written as the extra field
// "dhatCppTimeline", which the stock viewer ignores and `dhat-view plot` draws.
struct HeapTimeline {
  std::uint64_t bucket_us = 0;
  std::vector<std::uint64_t> max_bytes;  // most live bytes within each bucket
  std::vector<std::uint64_t> end_bytes;  // live bytes at each bucket's end
};

// The process's resident memory over the run (core/rss_timeline.hpp), written as the extra field
// "dhatCppRss". Empty `levels` when nothing was read.
struct ResidentMemory {
  HeapTimeline levels;  // the same buckets' shape, in bytes of RSS
  std::uint64_t peak_bytes = 0;
};

struct ProfileHeader {
  bool ad_hoc = false;  // ad hoc profile: bklt false, units/events, no t-gmax
  std::string mode = "cpp-heap";
  std::string cmd;
  long pid = 0;
  std::uint64_t tg_us = 0;
  std::uint64_t te_us = 0;
  HeapTimeline timeline;
  ResidentMemory rss;
};

void stream_dhat_json(const ProfileHeader& header, const ProgramPoints& points, const TextSink& sink);
std::string to_dhat_json(const ProfileHeader& header, const ProgramPoints& points);

// "" on success, otherwise the reason the file could not be written.
[[nodiscard]] std::string write_dhat_json_file(const std::string& path, const ProfileHeader& header,
                                               const ProgramPoints& points);

}  // namespace dhat::report
