#include "report/program_points.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "format/dhat_file.hpp"

namespace dhat::report {

namespace {

// Functions below the user's code (under a thread's entry, or under main when main itself has no
// symbol, as in a stripped program); nothing under them is interesting.
bool is_thread_root(const std::string& function) {
  return function == "start_thread" || function == "clone" || function == "clone3" || function == "__clone3" ||
         function == "__GI___clone3" || function == "__libc_start_call_main" || function == "__libc_start_main" ||
         function == "__libc_start_main_impl" || function == "_start";
}

// A frame of dhat-cpp's own public header: on top of a stack, an inline entry point
// (dhat::ad_hoc_event) expanded into the user's function, whose frame is where the event happened.
bool is_public_header_frame(const Frame& frame) {
  static constexpr std::string_view kHeader = "/dhat/dhat.hpp";
  return frame.file.size() >= kHeader.size() &&
         frame.file.compare(frame.file.size() - kHeader.size(), kHeader.size(), kHeader) == 0;
}

std::uint64_t hash_ids(const FrameId* begin, const FrameId* end) {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ static_cast<std::uint64_t>(end - begin);
  for (const FrameId* id = begin; id != end; ++id) {
    h ^= *id;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  return h;
}

// Program points by their frame lists, for merging equal ones: open addressing over indices
// into the output list, 4 bytes a slot plus the list's hash. (A std::map keyed by a copy of
// each list cost about 250 bytes per program point: 16 MB of a 65,000-stack profile's peak.)
class PpIndex {
 public:
  explicit PpIndex(const ProgramPoints& points) : points_(points) {}

  // The index of the program point with the frames of `candidate`, or `next_index` (recorded as
  // such) if there is none yet; the caller then appends it at that index.
  std::size_t find_or_add(const ProgramPoint& candidate, std::size_t next_index) {
    if ((hashes_.size() + 1) * 2 > slots_.size()) {
      grow();
    }
    const FrameId* begin = points_.frames_begin(candidate);
    const FrameId* end = points_.frames_end(candidate);
    const std::uint64_t hash = hash_ids(begin, end);
    for (std::size_t i = hash & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const std::uint32_t at = slots_[i];
      if (at == kEmpty) {
        slots_[i] = static_cast<std::uint32_t>(next_index);
        hashes_.push_back(hash);
        return next_index;
      }
      const ProgramPoint& existing = points_.pps[at];
      if (hashes_[at] == hash && existing.frame_count == candidate.frame_count &&
          std::equal(begin, end, points_.frames_begin(existing))) {
        return at;
      }
    }
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFU;

  void grow() {
    std::vector<std::uint32_t> bigger(slots_.empty() ? 1024 : slots_.size() * 2, kEmpty);
    for (std::size_t at = 0; at < hashes_.size(); ++at) {
      std::size_t i = hashes_[at] & (bigger.size() - 1);
      while (bigger[i] != kEmpty) {
        i = (i + 1) & (bigger.size() - 1);
      }
      bigger[i] = static_cast<std::uint32_t>(at);
    }
    slots_.swap(bigger);
  }

  const ProgramPoints& points_;
  std::vector<std::uint32_t> slots_;
  std::vector<std::uint64_t> hashes_;  // of each program point added, by index
};

}  // namespace

void RawProgramPoints::add(const PpTotals& totals, const std::uintptr_t* return_addresses, std::size_t depth) {
  for (std::size_t i = 0; i < depth; ++i) {
    const auto [it, inserted] =
        index_of_address_.emplace(return_addresses[i], static_cast<std::uint32_t>(addresses_.size()));
    if (inserted) {
      addresses_.push_back(return_addresses[i]);
    }
    stacks_.push_back(it->second);
  }
  totals_.push_back(totals);
  stack_ends_.push_back(static_cast<std::uint32_t>(stacks_.size()));
}

void RawProgramPoints::done_adding() { std::unordered_map<std::uintptr_t, std::uint32_t>().swap(index_of_address_); }

ProgramPoints build_program_points(RawProgramPoints raw, Symbolizer& symbolizer) {
  raw.done_adding();
  ProgramPoints out;
  out.ftbl.emplace_back(format::kRootFrame);
  std::unordered_map<std::string, FrameId> frame_index;
  PpIndex pp_index(out);
  out.pps.reserve(raw.size());  // at most one each: growing by doubling held both copies at once

  auto intern = [&](const std::string& text) {
    auto [it, inserted] = frame_index.emplace(text, static_cast<FrameId>(out.ftbl.size()));
    if (inserted) {
      out.ftbl.push_back(text);
    }
    return it->second;
  };

  // Each distinct address is symbolized and formatted once, however many stacks share it, and
  // only when a stack needs it (addresses below main are never looked up).
  struct AddressFrames {
    std::uint32_t first = 0;  // in address_frames
    std::uint32_t count = 0;
    bool resolved = false;
    bool thread_root = false;  // the outermost function is below the program's code
    bool is_main = false;
    std::uint32_t own_inlined = 0;  // leading frames of dhat-cpp's public header (left out on top)
  };
  std::vector<AddressFrames> by_address(raw.addresses().size());
  std::vector<FrameId> address_frames;
  auto frames_of = [&](std::uint32_t address_index) -> const AddressFrames& {
    AddressFrames& entry = by_address[address_index];
    if (entry.resolved) {
      return entry;
    }
    const std::vector<Frame> frames = symbolizer.resolve(raw.addresses()[address_index]);
    const std::string& outermost = frames.back().function;
    entry.resolved = true;
    entry.thread_root = is_thread_root(outermost);
    entry.is_main = outermost == "main";
    entry.first = static_cast<std::uint32_t>(address_frames.size());
    if (!entry.thread_root) {
      while (entry.own_inlined + 1U < frames.size() && is_public_header_frame(frames[entry.own_inlined])) {
        ++entry.own_inlined;
      }
      for (const Frame& frame : frames) {
        address_frames.push_back(intern(format::format_frame(frame)));
      }
    }
    entry.count = static_cast<std::uint32_t>(address_frames.size()) - entry.first;
    return entry;
  };

  for (std::size_t pp = 0; pp < raw.size(); ++pp) {
    const std::size_t start = out.frame_ids.size();
    std::size_t kept_before_thread_root = start;
    for (const std::uint32_t* at = raw.stack_begin(pp); at != raw.stack_end(pp); ++at) {
      const AddressFrames& frames = frames_of(*at);
      if (frames.thread_root) {
        break;
      }
      // On top of the stack only: an event's own entry point, inlined (dhat::ad_hoc_event).
      const std::uint32_t skip = at == raw.stack_begin(pp) ? frames.own_inlined : 0;
      out.frame_ids.insert(out.frame_ids.end(), address_frames.begin() + frames.first + skip,
                           address_frames.begin() + frames.first + frames.count);
      kept_before_thread_root = out.frame_ids.size();
      if (frames.is_main) {
        break;
      }
    }
    out.frame_ids.resize(kept_before_thread_root);
    if (out.frame_ids.size() == start) {
      out.frame_ids.push_back(intern("0x0: ??? (no stack could be captured)"));
    }
    const ProgramPoint candidate{raw.totals(pp), static_cast<std::uint32_t>(start),
                                 static_cast<std::uint32_t>(out.frame_ids.size() - start)};
    const std::size_t at = pp_index.find_or_add(candidate, out.pps.size());
    if (at == out.pps.size()) {
      out.pps.push_back(candidate);
    } else {
      // The own peak (mb) of a merged point is at most the sum of the parts' peaks; merges only
      // happen when symbolization makes distinct stacks equal, which addresses in frame names
      // make rare.
      format::add_counters(out.pps[at].totals, candidate.totals);
      out.frame_ids.resize(start);  // the frames are already there, under the first one
      ++out.merged;
    }
  }
  return out;
}

}  // namespace dhat::report
