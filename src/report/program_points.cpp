#include "report/program_points.hpp"

#include <map>
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

}  // namespace

ProgramPoints build_program_points(const std::vector<RawProgramPoint>& raw, Symbolizer& symbolizer) {
  ProgramPoints out;
  out.ftbl.emplace_back("[root]");
  std::unordered_map<std::string, std::size_t> frame_index;
  std::map<std::vector<std::size_t>, std::size_t> pp_index;

  auto intern = [&](const std::string& text) {
    auto [it, inserted] = frame_index.emplace(text, out.ftbl.size());
    if (inserted) {
      out.ftbl.push_back(text);
    }
    return it->second;
  };

  // Each distinct address is symbolized and formatted once, however many stacks share it.
  struct AddressFrames {
    std::vector<std::size_t> ids;
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

  for (const RawProgramPoint& point : raw) {
    std::vector<std::size_t> ids;
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
    if (ids.empty()) {
      ids.push_back(intern("0x0: ??? (no stack could be captured)"));
    }
    auto [it, inserted] = pp_index.emplace(ids, out.pps.size());
    if (inserted) {
      out.pps.push_back(ProgramPoint{point.totals, std::move(ids)});
    } else {
      add_totals(out.pps[it->second].totals, point.totals);
      ++out.merged;
    }
  }
  return out;
}

}  // namespace dhat::report
