// dhat-view merge: many profiles (processes, runs, machines) as one DHAT file that the stock
// viewer loads, program points matched by their frames without addresses (as `diff` does).
//
// Memory: the inputs are read one at a time, and only the merged program points are kept, so
// memory follows the number of distinct program points, not the number of files.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "commands.hpp"
#include "format/counters.hpp"
#include "format/dhat_file.hpp"
#include "format/frame_text.hpp"
#include "output_text.hpp"
#include "profile_file.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

const char* kHelp =
    "usage: dhat-view merge FILE... -o OUT\n"
    "  Sums the program points of many DHAT profiles (of one kind: all heap, or all ad hoc, with\n"
    "  the same time unit) into one file the stock viewer loads. Program points are matched by\n"
    "  their frames without addresses. Totals, lifetimes and the bytes live at t-end add up\n"
    "  exactly; at t-gmax each profile contributes its heap at its own peak, and a program\n"
    "  point's own peak (mb) is the sum of its peaks: an upper bound of the peak of the sum\n"
    "  (the header's dhatCppMerge field says so). Times: t-end is the longest input's.\n";

// What the merged file keeps of one program point: its frames (indexes into the merged frame
// table) and its summed counters.
struct MergedPoint {
  std::vector<std::uint32_t> frames;
  format::PpTotals totals;
};

class Merger {
 public:
  // Adds one profile; returns an empty string, or why it cannot be merged with the others.
  std::string add(const Profile& profile) {
    if (count_ == 0) {
      first_ = Header{profile.mode, profile.time_unit, profile.bytes_unit, profile.blocks_unit,
                      profile.cmd,  profile.lifetimes, profile.short_lived};
    } else if (profile.mode != first_.mode) {
      return "mode '" + profile.mode + "', the first file's is '" + first_.mode + "'";
    } else if (profile.lifetimes != first_.lifetimes) {
      return profile.lifetimes ? "block lifetimes, the first file has none" : "no block lifetimes, the first file has";
    } else if (profile.time_unit != first_.time_unit) {
      return "time unit '" + profile.time_unit + "', the first file's is '" + first_.time_unit + "'";
    }
    ++count_;
    all_temporary_ = all_temporary_ && profile.has_temporary;
    te_ = std::max(te_, profile.te);
    std::uint64_t peak = 0;
    std::vector<std::uint32_t> frames;
    std::string key;
    for (const ProgramPoint& pp : profile.pps) {
      frames.clear();
      key.clear();
      for (std::string_view frame : pp.frames) {
        const std::string_view text = format::without_address(frame);
        frames.push_back(frame_id(text));
        key.append(reinterpret_cast<const char*>(&frames.back()), sizeof(std::uint32_t));
      }
      const auto [at, fresh] = index_.try_emplace(key, points_.size());
      if (fresh) {
        points_.push_back(MergedPoint{frames, {}});
      }
      format::add_counters(points_[at->second].totals, pp);
      peak += pp.gb;
    }
    // t-gmax: the time of the biggest single peak among the inputs (each has its own clock).
    if (count_ == 1 || peak > biggest_peak_) {
      biggest_peak_ = peak;
      tg_ = profile.tg;
    }
    return "";
  }

  std::string json(const std::vector<std::string>& paths) const {
    const auto text = [](std::string_view s) {
      return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    const bool copy = first_.mode.find("copy") != std::string::npos;
    std::string out = "{\"dhatFileVersion\":" + std::to_string(format::kFileVersion);
    out += ",\"mode\":" + text(first_.mode) + ",\"verb\":" + text(copy ? "Copied" : "Allocated");
    out += ",\"bklt\":" + std::string(first_.lifetimes ? "true" : "false") + ",\"bkacc\":false";
    out += ",\"bsu\":" + text(first_.bytes_unit) + ",\"bksu\":" + text(first_.blocks_unit);
    out += ",\"tu\":" + text(first_.time_unit) + ",\"Mtu\":" + text(million_unit(first_.time_unit));
    if (first_.lifetimes) {
      out += ",\"tuth\":" + std::to_string(first_.short_lived) + ",\"tg\":" + std::to_string(tg_);
    }
    out += ",\"cmd\":" + text("dhat-view merge of " + std::to_string(count_) +
                              " profiles (the first: " + (first_.cmd.empty() ? paths.front() : first_.cmd) + ")");
    out += ",\"pid\":0,\"te\":" + std::to_string(te_);
    nlohmann::json merge;
    merge["profiles"] = count_;
    merge["files"] = paths;
    merge["summed exactly"] = "tb tbk tl eb ebk tmpbk: the sums over the profiles";
    merge["gb gbk"] = "each profile's live bytes and blocks at its own t-gmax, summed";
    merge["mb mbk"] = "each profile's own peak of the program point, summed (at least the peak of the sum)";
    merge["tg"] = "the t-gmax of the profile whose own peak was the biggest, on its own clock";
    merge["te"] = "the longest profile's t-end";
    merge["dhatCppTimeline dhatCppRss"] = "not kept: each profile's heap and RSS over time are on its own clock";
    out += ",\"dhatCppMerge\":" + merge.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += ",\"pps\":[";
    for (std::size_t i = 0; i < points_.size(); ++i) {
      const MergedPoint& pp = points_[i];
      out += i == 0 ? "{" : ",{";
      bool first_field = true;
      for (const format::CounterField& field : format::kCounterFields) {
        if ((field.lifetimes && !first_.lifetimes) || (field.extension && !all_temporary_)) {
          continue;  // tmpbk only when every input counted it: a sum of some would be too small
        }
        out += (first_field ? "\"" : ",\"") + std::string(field.key) + "\":" + std::to_string(pp.totals.*field.member);
        first_field = false;
      }
      out += ",\"fs\":[";
      for (std::size_t f = 0; f < pp.frames.size(); ++f) {
        out += (f == 0 ? "" : ",") + std::to_string(pp.frames[f]);
      }
      out += "]}";
    }
    out += "],\"ftbl\":[" + text(format::kRootFrame);
    for (const std::string& frame : frame_table_) {
      out += "," + text(frame);
    }
    out += "]}\n";
    return out;
  }

  std::size_t program_points() const { return points_.size(); }

 private:
  struct Header {
    std::string mode, time_unit, bytes_unit, blocks_unit, cmd;
    bool lifetimes = false;
    std::uint64_t short_lived = 0;
  };

  static std::string million_unit(const std::string& unit) {
    if (unit == format::kTimeUnit) {
      return format::kMillionTimeUnit;
    }
    return unit == "instrs" ? "Minstr" : "M" + unit;
  }

  std::uint32_t frame_id(std::string_view text) {
    const auto found = frame_ids_.find(std::string(text));
    if (found != frame_ids_.end()) {
      return found->second;
    }
    frame_table_.emplace_back(text);
    const auto id = static_cast<std::uint32_t>(frame_table_.size());  // 0 is [root]
    frame_ids_.emplace(frame_table_.back(), id);
    return id;
  }

  Header first_;
  std::size_t count_ = 0;
  bool all_temporary_ = true;
  std::uint64_t te_ = 0, tg_ = 0, biggest_peak_ = 0;
  std::vector<std::string> frame_table_;  // ftbl[1...]
  std::unordered_map<std::string, std::uint32_t> frame_ids_;
  std::unordered_map<std::string, std::size_t> index_;  // frame ids as bytes -> points_
  std::vector<MergedPoint> points_;
};

}  // namespace

int merge_command(const Args& args) {
  std::vector<std::string> paths;
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (a == "-o") {
      if (i + 1 >= args.size()) {
        return usage_error("merge: -o needs a file name\n" + std::string(kHelp));
      }
      out = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("merge: unknown option '" + a + "'\n" + kHelp);
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty() || out.empty()) {
    return usage_error(std::string("merge needs files and -o OUT\n") + kHelp);
  }
  Merger merger;
  for (const std::string& path : paths) {
    const std::string refused = merger.add(load_profile(path));
    if (!refused.empty()) {
      return usage_error("merge: '" + path + "' cannot be merged with '" + paths.front() + "': it has " + refused);
    }
  }
  std::string error;
  if (!write_output(out, merger.json(paths), &error)) {
    return usage_error(error);
  }
  if (out != "-") {
    std::cout << "dhat-view: merged " << commas(static_cast<std::int64_t>(paths.size())) << " profiles into " << out
              << " (" << commas(static_cast<std::int64_t>(merger.program_points())) << " program points)\n";
  }
  return 0;
}

}  // namespace dhat::viewer
