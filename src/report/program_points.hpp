// From raw program points (counters + return addresses) to the DHAT frame table and PP list.
//
// Contract: each unique return address is symbolized once; inlined frames become their own
// entries; frames below `main` (and below a thread's entry: start_thread, clone) are dropped;
// program points whose frame lists end up equal are merged, because the stock viewer rejects
// repeated locations. ftbl[0] is "[root]" and no `frame_ids` contains 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "report/frame.hpp"

namespace dhat::report {

struct PpTotals {
  std::uint64_t tb = 0, tbk = 0, tl = 0;
  std::uint64_t mb = 0, mbk = 0;
  std::uint64_t gb = 0, gbk = 0;
  std::uint64_t eb = 0, ebk = 0;
};

struct RawProgramPoint {
  PpTotals totals;
  std::vector<std::uintptr_t> return_addresses;  // innermost first
};

using FrameId = std::uint32_t;  // an index into ftbl (4 bytes: a report has far fewer frames)

struct ProgramPoint {
  PpTotals totals;
  std::vector<FrameId> frame_ids;  // innermost first
};

struct ProgramPoints {
  std::vector<std::string> ftbl;
  std::vector<ProgramPoint> pps;
  std::size_t merged = 0;  // raw program points folded into another one
};

// Takes `raw` by value and frees each point's addresses once it is placed, so that the raw copy
// and the result are not both whole at once (pass it with std::move when done with it).
ProgramPoints build_program_points(std::vector<RawProgramPoint> raw, Symbolizer& symbolizer);

}  // namespace dhat::report
