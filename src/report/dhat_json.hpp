// The DHAT file (format version 2, shared/spec/dhat-format.md) and writing it safely.
//
// Contract: `to_dhat_json` produces every field the stock dh_view checks, for a heap profile
// (bklt true, bkacc false) and for an ad hoc one (bklt false; unit, units, events, as dhat-rs).
// `write_file_atomically` writes to a temporary file in the same directory and renames it, so
// the target is never torn and an existing file survives failure. `write_dhat_json_atomically`
// streams the text to that file in 64 KiB pieces: the whole text of 65,000 program points held
// as one string was 8 MB, 16 MB of memory with its growth, a fifth of such a profile's peak.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "report/program_points.hpp"

namespace dhat::report {

// The heap's size over the run (core/timeline.hpp), written as the extra field
// "dhatCppTimeline", which the stock viewer ignores and `dhat-view plot` draws.
struct HeapTimeline {
  std::uint64_t bucket_us = 0;
  std::vector<std::uint64_t> max_bytes;  // most live bytes within each bucket
  std::vector<std::uint64_t> end_bytes;  // live bytes at each bucket's end
};

struct ProfileHeader {
  bool ad_hoc = false;  // ad hoc profile: bklt false, units/events, no t-gmax
  std::string mode = "cpp-heap";
  std::string cmd;
  long pid = 0;
  std::uint64_t tg_us = 0;
  std::uint64_t te_us = 0;
  HeapTimeline timeline;
};

// Receives the text in order, a piece at a time.
using TextSink = std::function<void(const std::string& piece)>;

void stream_dhat_json(const ProfileHeader& header, const ProgramPoints& points, const TextSink& sink);
std::string to_dhat_json(const ProfileHeader& header, const ProgramPoints& points);

// "" on success, otherwise the reason (strerror text) the file could not be written.
[[nodiscard]] std::string write_file_atomically(const std::string& path, const std::string& contents);
// The same, for text that `produce` hands to its sink in pieces.
[[nodiscard]] std::string write_file_atomically(const std::string& path,
                                                const std::function<void(const TextSink&)>& produce);
[[nodiscard]] std::string write_dhat_json_atomically(const std::string& path, const ProfileHeader& header,
                                                     const ProgramPoints& points);

}  // namespace dhat::report
