#include "report/program_points.hpp"

#include <unordered_map>

namespace dhat::report {

namespace {

// Functions below the user's code (under a thread's entry, or under main when main itself has no
// symbol, as in a stripped program); nothing under them is interesting.
bool is_thread_root(const std::string& function) {
  return function == "start_thread" || function == "clone" || function == "clone3" || function == "__clone3" ||
         function == "__GI___clone3" || function == "__libc_start_call_main" || function == "__libc_start_main" ||
         function == "__libc_start_main_impl" || function == "_start";
}

void add_totals(PpTotals& into, const PpTotals& more) {
  into.tb += more.tb;
  into.tbk += more.tbk;
  into.tl += more.tl;
  // The own-peak of a merged PP is at most the sum of the parts' peaks; merges only happen when
  // symbolization makes distinct stacks equal, which addresses in frame names make rare.
  into.mb += more.mb;
  into.mbk += more.mbk;
  into.gb += more.gb;
  into.gbk += more.gbk;
  into.eb += more.eb;
  into.ebk += more.ebk;
}

std::uint64_t hash_ids(const std::vector<FrameId>& ids) {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ ids.size();
  for (const FrameId id : ids) {
    h ^= id;
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
  explicit PpIndex(const std::vector<ProgramPoint>& pps) : pps_(pps) {}

  // The index of the program point with frames `ids`, or `next_index` (recorded as such) if
  // there is none yet; the caller then appends it at that index.
  std::size_t find_or_add(const std::vector<FrameId>& ids, std::size_t next_index) {
    if ((hashes_.size() + 1) * 2 > slots_.size()) {
      grow();
    }
    const std::uint64_t hash = hash_ids(ids);
    for (std::size_t i = hash & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const std::uint32_t at = slots_[i];
      if (at == kEmpty) {
        slots_[i] = static_cast<std::uint32_t>(next_index);
        hashes_.push_back(hash);
        return next_index;
      }
      if (hashes_[at] == hash && pps_[at].frame_ids == ids) {
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

  const std::vector<ProgramPoint>& pps_;
  std::vector<std::uint32_t> slots_;
  std::vector<std::uint64_t> hashes_;  // of each program point added, by index
};

}  // namespace

ProgramPoints build_program_points(std::vector<RawProgramPoint> raw, Symbolizer& symbolizer) {
  ProgramPoints out;
  out.ftbl.emplace_back("[root]");
  std::unordered_map<std::string, FrameId> frame_index;
  PpIndex pp_index(out.pps);
  out.pps.reserve(raw.size());  // at most one each: growing by doubling held both copies at once

  auto intern = [&](const std::string& text) {
    auto [it, inserted] = frame_index.emplace(text, static_cast<FrameId>(out.ftbl.size()));
    if (inserted) {
      out.ftbl.push_back(text);
    }
    return it->second;
  };

  // Each distinct address is symbolized and formatted once, however many stacks share it.
  struct AddressFrames {
    std::vector<FrameId> ids;
    bool thread_root = false;  // the outermost function is below the program's code
    bool is_main = false;
  };
  std::unordered_map<std::uintptr_t, AddressFrames> by_address;
  auto frames_of = [&](std::uintptr_t address) -> const AddressFrames& {
    auto found = by_address.find(address);
    if (found != by_address.end()) {
      return found->second;
    }
    AddressFrames entry;
    const std::vector<Frame> frames = symbolizer.resolve(address);
    const std::string& outermost = frames.back().function;
    entry.thread_root = is_thread_root(outermost);
    entry.is_main = outermost == "main";
    if (!entry.thread_root) {
      for (const Frame& frame : frames) {
        entry.ids.push_back(intern(format_frame(frame)));
      }
    }
    return by_address.emplace(address, std::move(entry)).first->second;
  };

  for (RawProgramPoint& point : raw) {
    std::vector<FrameId> ids;
    std::size_t kept_before_thread_root = 0;
    for (std::uintptr_t address : point.return_addresses) {
      const AddressFrames& frames = frames_of(address);
      if (frames.thread_root) {
        break;
      }
      ids.insert(ids.end(), frames.ids.begin(), frames.ids.end());
      kept_before_thread_root = ids.size();
      if (frames.is_main) {
        break;
      }
    }
    ids.resize(kept_before_thread_root);
    std::vector<std::uintptr_t>().swap(point.return_addresses);  // placed: free it now
    if (ids.empty()) {
      ids.push_back(intern("0x0: ??? (no stack could be captured)"));
    }
    const std::size_t at = pp_index.find_or_add(ids, out.pps.size());
    if (at == out.pps.size()) {
      out.pps.push_back(ProgramPoint{point.totals, std::move(ids)});
    } else {
      add_totals(out.pps[at].totals, point.totals);
      ++out.merged;
    }
  }
  return out;
}

}  // namespace dhat::report
