// dhat-view diff: two profiles of the same program (before/after a change), program points
// matched by their frames with the addresses removed.
#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format/frame_text.hpp"
#include "metrics.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

constexpr std::size_t kWidth = 100;

const char* kHelp =
    "usage: dhat-view diff BEFORE AFTER [--metric METRIC] [--top N] [--json]\n"
    "  Compares two profiles: totals, then the program points whose METRIC (total-bytes by\n"
    "  default, total-blocks, tgmax, tend, short-lived, temporary) grew or shrank the most (top N,\n"
    "  default 5 each way). Program points are matched by their frames without addresses.\n";

struct Matched {
  std::vector<std::string> frames;  // without addresses
  std::uint64_t before = 0, after = 0;
  std::uint64_t before_blocks = 0, after_blocks = 0;
};

std::string key_of(const ProgramPoint& pp, std::vector<std::string>* frames) {
  std::string key;
  for (const auto& frame : pp.frames) {
    frames->emplace_back(format::without_address(frame));
    key += frames->back() + "\n";
  }
  return key;
}

std::uint64_t total(const Profile& profile, Metric metric) {
  std::uint64_t sum = 0;
  for (const auto& pp : profile.pps) {
    sum += metric_value(profile, pp, metric);
  }
  return sum;
}

}  // namespace

int diff_command(const Args& args) {
  std::vector<std::string> paths;
  Metric metric = Metric::total_bytes;
  std::size_t top = 5;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (a == "--metric" && i + 1 < args.size()) {
      if (!parse_metric(args[++i], &metric)) {
        return usage_error("unknown metric '" + args[i] + "' (" + kMetricNames + ")");
      }
    } else if (a == "--top" && i + 1 < args.size()) {
      std::uint64_t value = 0;
      if (!parse_count(args[++i], &value, 999'999'999)) {
        return usage_error("--top needs a whole number, not '" + args[i] + "'");
      }
      top = value;
    } else if (a == "--json") {
      json = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("diff: unknown option '" + a + "'\n" + kHelp);
    } else {
      paths.push_back(a);
    }
  }
  if (paths.size() != 2) {
    return usage_error(std::string("diff needs two files\n") + kHelp);
  }
  const Profile before = load_profile(paths[0]);
  const Profile after = load_profile(paths[1]);
  for (const Profile* profile : {&before, &after}) {
    if (const std::string why = metric_unavailable(*profile, metric); !why.empty()) {
      return usage_error(why);
    }
  }

  std::map<std::string, Matched> matched;
  for (const auto& pp : before.pps) {
    std::vector<std::string> frames;
    Matched& m = matched[key_of(pp, &frames)];
    m.frames = frames;
    m.before += metric_value(before, pp, metric);
    m.before_blocks += pp.tbk;
  }
  for (const auto& pp : after.pps) {
    std::vector<std::string> frames;
    Matched& m = matched[key_of(pp, &frames)];
    m.frames = frames;
    m.after += metric_value(after, pp, metric);
    m.after_blocks += pp.tbk;
  }
  std::vector<const Matched*> changes;
  for (const auto& [key, m] : matched) {
    if (m.before != m.after) {
      changes.push_back(&m);
    }
  }
  auto delta = [](const Matched* m) {
    return static_cast<std::int64_t>(m->after) - static_cast<std::int64_t>(m->before);
  };
  std::stable_sort(changes.begin(), changes.end(),
                   [&](const Matched* a, const Matched* b) { return delta(a) > delta(b); });
  std::vector<const Matched*> increases, decreases;
  for (const Matched* m : changes) {
    if (delta(m) > 0 && increases.size() < top) increases.push_back(m);
  }
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
    if (delta(*it) < 0 && decreases.size() < top) decreases.push_back(*it);
  }

  std::vector<Metric> rows = {Metric::total_bytes, Metric::total_blocks, Metric::tgmax_bytes, Metric::tend_bytes};
  if (before.has_temporary && after.has_temporary) {
    rows.push_back(Metric::temporary);
  }
  if (json) {
    nlohmann::ordered_json out;
    out["before"] = before.path;
    out["after"] = after.path;
    out["metric"] = metric_label(metric);
    for (Metric row : rows) {
      out["totals"][metric_label(row)] = {{"before", total(before, row)}, {"after", total(after, row)}};
    }
    auto list = [&](const std::vector<const Matched*>& items) {
      nlohmann::ordered_json array = nlohmann::ordered_json::array();
      for (const Matched* m : items) {
        array.push_back({{"before", m->before}, {"after", m->after}, {"change", delta(m)}, {"frames", m->frames}});
      }
      return array;
    };
    out["increases"] = list(increases);
    out["decreases"] = list(decreases);
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << fit("Before: " + before.path, kWidth) << "\n" << fit("After:  " + after.path, kWidth) << "\n\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-18s %16s %16s %18s %10s\n", "", "before", "after", "change", "");
  std::cout << line;
  for (Metric row : rows) {
    const std::uint64_t b = total(before, row), a = total(after, row);
    const std::int64_t d = static_cast<std::int64_t>(a) - static_cast<std::int64_t>(b);
    std::string relative = b == 0 ? "" : (d >= 0 ? "+" : "-") + percent(static_cast<std::uint64_t>(d >= 0 ? d : -d), b);
    std::snprintf(line, sizeof line, "%-18s %16s %16s %18s %10s\n", metric_label(row).c_str(),
                  commas(static_cast<std::int64_t>(b)).c_str(), commas(static_cast<std::int64_t>(a)).c_str(),
                  signed_commas(d).c_str(), relative.c_str());
    std::cout << line;
  }
  auto print = [&](const char* title, const std::vector<const Matched*>& items) {
    std::cout << "\n" << title << " in " << metric_label(metric) << ":\n";
    if (items.empty()) {
      std::cout << "  (none)\n";
    }
    for (const Matched* m : items) {
      std::cout << fit("  " + signed_commas(delta(m)) + " (" + commas(static_cast<std::int64_t>(m->before)) + " -> " +
                           commas(static_cast<std::int64_t>(m->after)) + "), blocks " +
                           commas(static_cast<std::int64_t>(m->before_blocks)) + " -> " +
                           commas(static_cast<std::int64_t>(m->after_blocks)),
                       kWidth)
                << "\n";
      for (std::size_t f = 0; f < m->frames.size() && f < 6; ++f) {
        std::cout << fit("    " + m->frames[f], kWidth) << "\n";
      }
    }
  };
  print("Largest increases", increases);
  print("Largest decreases", decreases);
  return 0;
}

}  // namespace dhat::viewer
