// dhat-view flamegraph: a profile's call tree as one self-contained HTML flame graph, or as
// collapsed stacks for other flame graph tools.
#include <iostream>

#include "commands.hpp"
#include "flame_graph.hpp"
#include "output_text.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

const char* kHelp =
    "usage: dhat-view flamegraph FILE [--metric M] [--inverted] [--folded] [-o OUT]\n"
    "  Draws FILE's call tree as a flame graph: one HTML file that any browser opens offline,\n"
    "  boxes sized by the metric; hover for a frame's numbers, click to zoom, search to\n"
    "  highlight frames and see their share. Works on any DHAT file.\n"
    "  --metric M   total-bytes (default), total-blocks, tgmax, tend, short-lived, temporary\n"
    "  --inverted   allocation sites at the root, then who calls them\n"
    "  --folded     collapsed stacks instead (\"frame;frame;frame VALUE\" lines) for\n"
    "               flamegraph.pl, inferno or speedscope\n"
    "  -o OUT       where to write (default: FILE with .flame.html or .folded; '-': stdout)\n";

std::string default_output(const std::string& path, bool folded) {
  const std::string stem =
      path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0 ? path.substr(0, path.size() - 5) : path;
  return stem + (folded ? ".folded" : ".flame.html");
}

}  // namespace

int flamegraph_command(const Args& args) {
  std::string path, out, metric_name = "total-bytes";
  bool inverted = false, folded = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (a == "-o" || a == "--metric") {
      if (i + 1 >= args.size()) {
        return usage_error("flamegraph: " + a + " needs a value\n" + kHelp);
      }
      (a == "-o" ? out : metric_name) = args[++i];
    } else if (a == "--inverted") {
      inverted = true;
    } else if (a == "--folded") {
      folded = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("flamegraph: unknown option '" + a + "'\n" + kHelp);
    } else if (path.empty()) {
      path = a;
    } else {
      return usage_error("flamegraph takes one file");
    }
  }
  if (path.empty()) {
    return usage_error(std::string("flamegraph needs a file\n") + kHelp);
  }
  Metric metric{};
  if (!parse_metric(metric_name, &metric)) {
    return usage_error("flamegraph: unknown metric '" + metric_name + "' (" + kMetricNames + ")");
  }
  const Profile profile = load_profile(path);
  if (const std::string why = metric_unavailable(profile, metric); !why.empty()) {
    return usage_error(why);
  }
  const FlameTree tree = build_flame_tree(profile, metric, inverted);
  const std::string unit = counts_blocks(metric) ? profile.blocks_unit : profile.bytes_unit;
  if (out.empty()) {
    out = default_output(path, folded);
  }
  const std::string text =
      folded ? folded_stacks(tree)
             : flame_graph_page(tree, profile.cmd.empty() ? path : profile.cmd, metric_label(metric), unit, inverted);
  std::string error;
  if (!write_output(out, text, &error)) {
    return usage_error(error);
  }
  if (out != "-") {
    std::cout << "dhat-view: wrote " << out << " (" << metric_label(metric) << ": "
              << commas(static_cast<std::int64_t>(tree.nodes[0].value)) << " " << unit << ", "
              << commas(static_cast<std::int64_t>(tree.nodes.size() - 1)) << " frames)\n";
  }
  return 0;
}

}  // namespace dhat::viewer
