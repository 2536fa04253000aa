// dhat-view summary: header, totals and the top program points by a metric, at 100 columns.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format/counters.hpp"
#include "metrics.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

constexpr std::size_t kWidth = 100;

const char* kHelp =
    "usage: dhat-view summary FILE [--sort METRIC] [--top N] [--frames N] [--json]\n"
    "  Prints the profile's header, its totals and the top N program points (default 10) by\n"
    "  METRIC: total-bytes (default), total-blocks, tgmax, tend, short-lived, temporary (blocks\n"
    "  freed by their thread before it allocated again). --frames limits the frames shown per\n"
    "  program point (default 8). --json prints the same as JSON.\n";

// RSS at time `t`: the reading nearest to t (0 when there is none); `*read_at` gets the middle of
// the reading's bucket.
std::uint64_t rss_at(const Levels& rss, std::uint64_t t, std::uint64_t* read_at) {
  std::uint64_t best = 0, best_distance = UINT64_MAX;
  for (std::size_t i = 0; i < rss.max.size(); ++i) {
    const std::uint64_t middle = rss.bucket * i + rss.bucket / 2;
    const std::uint64_t distance = middle > t ? middle - t : t - middle;
    if (rss.max[i] != 0 && distance <= best_distance) {
      best = rss.max[i];
      best_distance = distance;
      *read_at = middle;
    }
  }
  return best;
}

// "35.60x": how many times `small` goes into `big` (a heap of 0 bytes says so instead).
std::string ratio(std::uint64_t big, std::uint64_t small) {
  if (small == 0) {
    return "no heap at";
  }
  char text[48];
  std::snprintf(text, sizeof text, "%.2fx", static_cast<double>(big) / static_cast<double>(small));
  return text;
}

}  // namespace

int summary_command(const Args& args) {
  std::string path;
  Metric metric = Metric::total_bytes;
  std::size_t top = 10, frames = 8;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (a == "--sort" && i + 1 < args.size()) {
      if (!parse_metric(args[++i], &metric)) {
        return usage_error("unknown metric '" + args[i] + "' (" + kMetricNames + ")");
      }
    } else if ((a == "--top" || a == "--frames") && i + 1 < args.size()) {
      std::uint64_t value = 0;
      if (!parse_count(args[++i], &value, 999'999'999)) {
        return usage_error(a + " needs a whole number, not '" + args[i] + "'");
      }
      (a == "--top" ? top : frames) = value;
    } else if (a == "--json") {
      json = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("summary: unknown option '" + a + "'\n" + kHelp);
    } else if (path.empty()) {
      path = a;
    } else {
      return usage_error("summary takes one file");
    }
  }
  if (path.empty()) {
    return usage_error(std::string("summary needs a file\n") + kHelp);
  }
  const Profile profile = load_profile(path);
  if (const std::string why = metric_unavailable(profile, metric); !why.empty()) {
    return usage_error(why);
  }
  std::uint64_t tb = 0, tbk = 0, gb = 0, gbk = 0, eb = 0, ebk = 0, tmpbk = 0;
  for (const auto& pp : profile.pps) {
    tmpbk += pp.tmpbk;
    tb += pp.tb;
    tbk += pp.tbk;
    gb += pp.gb;
    gbk += pp.gbk;
    eb += pp.eb;
    ebk += pp.ebk;
  }
  std::vector<const ProgramPoint*> order;
  for (const auto& pp : profile.pps) {
    if (metric_value(profile, pp, metric) != 0) {
      order.push_back(&pp);
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](const ProgramPoint* a, const ProgramPoint* b) {
    return metric_value(profile, *a, metric) > metric_value(profile, *b, metric);
  });
  order.resize(std::min(order.size(), top));

  if (json) {
    nlohmann::ordered_json out;
    out["file"] = profile.path;
    out["mode"] = profile.mode;
    out["cmd"] = profile.cmd;
    out["pid"] = profile.pid;
    out["tg"] = profile.tg;
    out["te"] = profile.te;
    out["time_unit"] = profile.time_unit;
    out["totals"] = {{"bytes", tb},         {"blocks", tbk},    {"tgmax_bytes", gb},
                     {"tgmax_blocks", gbk}, {"tend_bytes", eb}, {"tend_blocks", ebk}};
    if (profile.has_temporary) {
      out["totals"]["temporary_blocks"] = tmpbk;
    }
    if (profile.peak_rss != 0) {
      std::uint64_t read_at = 0;
      out["rss"] = {
          {"peak_bytes", profile.peak_rss},
          {"at_tgmax_bytes", rss_at(profile.rss, profile.tg, &read_at)},
          {"at_tgmax_read_at", read_at},
          {"at_tend_bytes", rss_at(profile.rss, profile.te, &read_at)},
          {"peak_over_tgmax_heap", gb == 0 ? 0.0 : static_cast<double>(profile.peak_rss) / static_cast<double>(gb)}};
    }
    out["sort"] = metric_label(metric);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const ProgramPoint* pp : order) {
      nlohmann::ordered_json item;
      for (const format::CounterField& field : format::kCounterFields) {
        item[field.key] = pp->*field.member;
      }
      item["frames"] = pp->frames;
      list.push_back(item);
    }
    out["top"] = list;
    std::cout << out.dump(2) << "\n";
    return 0;
  }

  const std::string& unit = profile.bytes_unit;
  const std::string& blocks = profile.blocks_unit;
  std::cout << fit("Profile: " + profile.path, kWidth) << "\n"
            << "Mode:    " << profile.mode << "\n"
            << fit("Command: " + profile.cmd, kWidth) << "\n"
            << "PID:     " << profile.pid << "\n";
  if (profile.lifetimes) {
    std::cout << "t-gmax:  " << commas(static_cast<std::int64_t>(profile.tg)) << " " << profile.time_unit << " ("
              << percent(profile.tg, profile.te) << " of the run)\n";
  }
  std::cout << "t-end:   " << commas(static_cast<std::int64_t>(profile.te)) << " " << profile.time_unit << "\n\n";
  std::cout << "Total:     " << commas(static_cast<std::int64_t>(tb)) << " " << unit << " in "
            << commas(static_cast<std::int64_t>(tbk)) << " " << blocks << "\n";
  if (profile.lifetimes) {
    std::cout << "At t-gmax: " << commas(static_cast<std::int64_t>(gb)) << " " << unit << " in "
              << commas(static_cast<std::int64_t>(gbk)) << " " << blocks << "\n"
              << "At t-end:  " << commas(static_cast<std::int64_t>(eb)) << " " << unit << " in "
              << commas(static_cast<std::int64_t>(ebk)) << " " << blocks << "\n";
  }
  if (profile.has_temporary) {
    // heaptrack's "temporary allocations": allocator pressure, blocks that could have lived on
    // the stack or been reused.
    std::cout << "Temporary: " << commas(static_cast<std::int64_t>(tmpbk)) << " " << blocks << " ("
              << percent(tmpbk, tbk) << " of all " << blocks << ": freed by their thread before it allocated again)\n";
  }
  if (profile.peak_rss != 0) {
    // The process's resident memory beside the heap: far above it, the allocator (or something
    // outside the heap: stacks, mappings, the profiler's own tables) holds the difference.
    std::cout << "Peak RSS:  " << commas(static_cast<std::int64_t>(profile.peak_rss))
              << " bytes (whole process: " << ratio(profile.peak_rss, gb) << " the heap at t-gmax)\n"
              << "RSS at t-gmax: ";
    std::uint64_t read_at = 0;
    const std::uint64_t at_tgmax = rss_at(profile.rss, profile.tg, &read_at);
    std::cout << commas(static_cast<std::int64_t>(at_tgmax)) << " bytes (read at "
              << commas(static_cast<std::int64_t>(read_at)) << " " << profile.time_unit
              << "); at t-end: " << commas(static_cast<std::int64_t>(rss_at(profile.rss, profile.te, &read_at)))
              << " bytes\n";
  }
  std::cout << "\nTop " << order.size() << " of " << profile.pps.size() << " program points by " << metric_label(metric)
            << ":\n";
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    const ProgramPoint& pp = *order[rank];
    std::string line = "#" + std::to_string(rank + 1) + "  " + commas(static_cast<std::int64_t>(pp.tb)) + " " + unit +
                       " (" + percent(pp.tb, tb) + ") in " + commas(static_cast<std::int64_t>(pp.tbk)) + " " + blocks;
    if (profile.lifetimes) {
      line += " | t-gmax " + commas(static_cast<std::int64_t>(pp.gb)) + " | t-end " +
              commas(static_cast<std::int64_t>(pp.eb)) + " | avg lifetime " +
              commas(static_cast<std::int64_t>(pp.tbk ? pp.tl / pp.tbk : 0)) + " " + profile.time_unit;
    }
    if (profile.has_temporary && pp.tmpbk != 0) {
      line += " | temporary " + commas(static_cast<std::int64_t>(pp.tmpbk));
    }
    std::cout << fit(line, kWidth) << "\n";
    for (std::size_t f = 0; f < pp.frames.size() && f < frames; ++f) {
      std::cout << fit("    " + std::string(pp.frames[f]), kWidth) << "\n";
    }
    if (pp.frames.size() > frames) {
      std::cout << "    (" << pp.frames.size() - frames << " more frames)\n";
    }
  }
  return 0;
}

}  // namespace dhat::viewer
