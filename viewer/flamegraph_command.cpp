// dhat-view flamegraph: a profile's call tree as one self-contained HTML flame graph, or as
// collapsed stacks for other flame graph tools.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "flame_graph.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

const char* kHelp =
    "usage: dhat-view flamegraph FILE [--metric M] [--inverted] [--folded] [-o OUT]\n"
    "  Draws FILE's call tree as a flame graph: one HTML file that any browser opens offline,\n"
    "  boxes sized by the metric; hover for a frame's numbers, click to zoom, search to\n"
    "  highlight frames and see their share. Works on any DHAT file.\n"
    "  --metric M   total-bytes (default), total-blocks, tgmax, tend, short-lived\n"
    "  --inverted   allocation sites at the root, then who calls them\n"
    "  --folded     collapsed stacks instead (\"frame;frame;frame VALUE\" lines) for\n"
    "               flamegraph.pl, inferno or speedscope\n"
    "  -o OUT       where to write (default: FILE with .flame.html or .folded; '-': stdout)\n";

std::string default_output(const std::string& path, bool folded) {
  const std::string stem =
      path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0 ? path.substr(0, path.size() - 5) : path;
  return stem + (folded ? ".folded" : ".flame.html");
}

// A regular file (or a new name) is written whole to a temporary name beside it, then renamed
// over it: a failed write never leaves half a file where a good one was. A symbolic link is
// followed (its target is written, the same way). Anything else (a device, a FIFO, /dev/stdout)
// is written in place: renaming over it would replace it with a regular file.
bool write_whole(const std::string& out, const std::string& text, std::string* error) {
  if (out == "-") {
    std::cout << text << std::flush;
    return static_cast<bool>(std::cout);
  }
  struct stat target {};
  if (stat(out.c_str(), &target) == 0 && !S_ISREG(target.st_mode)) {
    std::ofstream file(out, std::ios::binary);
    if (!(file << text) || !file.flush()) {
      *error = "cannot write '" + out + "'";
      return false;
    }
    return true;
  }
  std::string destination = out;
  struct stat link {};
  if (lstat(out.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    char* resolved = realpath(out.c_str(), nullptr);
    if (resolved != nullptr) {
      destination = resolved;
      std::free(resolved);
    }
  }
  const std::string temporary = destination + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!(file << text) || !file.flush()) {
      *error = "cannot write '" + temporary + "'";
      file.close();
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::rename(temporary.c_str(), destination.c_str()) != 0) {
    *error = "cannot rename '" + temporary + "' to '" + destination + "'";
    std::remove(temporary.c_str());
    return false;
  }
  return true;
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
    return usage_error("flamegraph: unknown metric '" + metric_name +
                       "' (total-bytes, total-blocks, tgmax, tend, short-lived)");
  }
  const Profile profile = load_profile(path);
  if (!profile.lifetimes && metric != Metric::total_bytes && metric != Metric::total_blocks) {
    return usage_error("'" + path + "' is an ad hoc profile: it has no " + metric_label(metric) +
                       " (use total-bytes or total-blocks)");
  }
  const FlameTree tree = build_flame_tree(profile, metric, inverted);
  const bool blocks = metric == Metric::total_blocks || metric == Metric::short_lived;
  const std::string unit = blocks ? profile.blocks_unit : profile.bytes_unit;
  if (out.empty()) {
    out = default_output(path, folded);
  }
  const std::string text =
      folded ? folded_stacks(tree)
             : flame_graph_page(tree, profile.cmd.empty() ? path : profile.cmd, metric_label(metric), unit, inverted);
  std::string error;
  if (!write_whole(out, text, &error)) {
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
