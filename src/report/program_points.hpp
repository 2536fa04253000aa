// From raw program points (counters + return addresses) to the DHAT frame table and PP list.
//
// Contract: each unique return address is symbolized once; inlined frames become their own
// entries; frames below `main` (and below a thread's entry: start_thread, clone) are dropped;
// program points whose frame lists end up equal are merged, because the stock viewer rejects
// repeated locations. ftbl[0] is "[root]" and no `frame_ids` entry is 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/counters.hpp"
#include "report/symbolizer.hpp"

namespace dhat::report {

using format::PpTotals;

// Program points as the recorder had them: counters and return addresses. Each distinct return
// address is kept once and a stack is a list of 4-byte indices into `addresses`.
//
// Why flat: one vector (24 bytes, plus a heap block with its own header) per program point was
// most of the report's peak memory on a 65,000-stack profile; the copy is taken under the
// recorder's lock, where fewer allocations also means a shorter wait for the program's threads.
class RawProgramPoints {
 public:
  // `return_addresses[0..depth)`, innermost first.
  void add(const PpTotals& totals, const std::uintptr_t* return_addresses, std::size_t depth);
  void add(const PpTotals& totals, std::initializer_list<std::uintptr_t> return_addresses) {
    add(totals, return_addresses.begin(), return_addresses.size());
  }
  void reserve(std::size_t pps) {
    totals_.reserve(pps);
    stack_ends_.reserve(pps);
  }
  std::size_t size() const noexcept { return totals_.size(); }

  const std::vector<std::uintptr_t>& addresses() const noexcept { return addresses_; }
  const PpTotals& totals(std::size_t pp) const noexcept { return totals_[pp]; }
  // Indices into addresses() of program point `pp`'s stack: [first, last).
  const std::uint32_t* stack_begin(std::size_t pp) const noexcept {
    return stacks_.data() + (pp == 0 ? 0 : stack_ends_[pp - 1]);
  }
  const std::uint32_t* stack_end(std::size_t pp) const noexcept { return stacks_.data() + stack_ends_[pp]; }
  // Frees the address index, once no more points will be added.
  void done_adding();

 private:
  std::vector<std::uintptr_t> addresses_;
  std::unordered_map<std::uintptr_t, std::uint32_t> index_of_address_;
  std::vector<PpTotals> totals_;
  std::vector<std::uint32_t> stack_ends_;
  std::vector<std::uint32_t> stacks_;
};

using FrameId = std::uint32_t;  // an index into ftbl (4 bytes: a report has far fewer frames)

struct ProgramPoint {
  PpTotals totals;
  std::uint32_t first_frame = 0;  // its frames are ProgramPoints::frame_ids[first_frame, +frame_count)
  std::uint32_t frame_count = 0;
};

struct ProgramPoints {
  std::vector<std::string> ftbl;
  std::vector<ProgramPoint> pps;
  std::vector<FrameId> frame_ids;  // every program point's frames, innermost first, back to back
  std::size_t merged = 0;          // raw program points folded into another one

  const FrameId* frames_begin(const ProgramPoint& pp) const noexcept { return frame_ids.data() + pp.first_frame; }
  const FrameId* frames_end(const ProgramPoint& pp) const noexcept { return frames_begin(pp) + pp.frame_count; }
};

// Takes `raw` by value and frees it as soon as the frames are known (pass it with std::move when
// done with it).
ProgramPoints build_program_points(RawProgramPoints raw, Symbolizer& symbolizer);

}  // namespace dhat::report
