// dhat-view plot: the heap's size over the run as an SVG (and a PNG when rsvg-convert is
// installed), with t-gmax marked. Draws dhat-cpp's "dhatCppTimeline" field.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "output_text.hpp"
#include "profile_file.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

const char* kHelp =
    "usage: dhat-view plot FILE [-o OUT.svg] [--png]\n"
    "  Draws the heap's live bytes over the run (the most in each time bucket) with t-gmax\n"
    "  marked. Writes OUT.svg (default: FILE with .svg); with --png also OUT.png via\n"
    "  rsvg-convert. Needs a dhat-cpp heap profile (it records the timeline).\n";

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string fmt(const char* format, double a, double b = 0) {
  char text[64];
  std::snprintf(text, sizeof text, format, a, b);
  return text;
}

}  // namespace

int plot_command(const Args& args) {
  std::string path, out;
  bool png = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (a == "-o" && i + 1 < args.size()) {
      out = args[++i];
    } else if (a == "--png") {
      png = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("plot: unknown option '" + a + "'\n" + kHelp);
    } else if (path.empty()) {
      path = a;
    } else {
      return usage_error("plot takes one file");
    }
  }
  if (path.empty()) {
    return usage_error(std::string("plot needs a file\n") + kHelp);
  }
  const Profile profile = load_profile(path);
  if (profile.timeline_max.empty()) {
    return usage_error("'" + path + "' has no heap timeline (only dhat-cpp heap profiles record one)");
  }
  if (out.empty()) {
    out =
        (path.size() > 5 && path.substr(path.size() - 5) == ".json" ? path.substr(0, path.size() - 5) : path) + ".svg";
  }
  const double width = 900, height = 320, left = 90, right = 20, top = 40, bottom = 40;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const std::uint64_t peak = *std::max_element(profile.timeline_max.begin(), profile.timeline_max.end());
  const double span = static_cast<double>(std::max<std::uint64_t>(profile.te, 1));
  const double bucket = static_cast<double>(profile.timeline_bucket);
  auto x_of = [&](double t) { return left + plot_w * std::min(t, span) / span; };
  auto y_of = [&](double bytes) {
    return top + plot_h * (1.0 - (peak == 0 ? 0.0 : bytes / static_cast<double>(peak)));
  };

  std::string points = fmt("%.1f,%.1f ", x_of(0), y_of(0));
  for (std::size_t i = 0; i < profile.timeline_max.size(); ++i) {
    const double t0 = bucket * static_cast<double>(i), t1 = bucket * static_cast<double>(i + 1);
    const double y = y_of(static_cast<double>(profile.timeline_max[i]));
    points += fmt("%.1f,%.1f ", x_of(t0), y) + fmt("%.1f,%.1f ", x_of(t1), y);
  }
  points += fmt("%.1f,%.1f", x_of(span), y_of(0));
  const double tg_x = x_of(static_cast<double>(profile.tg));

  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", width) + "\" height=\"" +
         fmt("%.0f", height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + fmt("%.0f", left) +
         "\" y=\"20\" font-size=\"14\">Live heap over time: " + escape(profile.cmd.empty() ? path : profile.cmd) +
         "</text>\n";
  svg += "<polygon class=\"heap\" points=\"" + points + "\" fill=\"#9ecae1\" stroke=\"#3182bd\"/>\n";
  svg += "<line x1=\"" + fmt("%.1f", left) + "\" y1=\"" + fmt("%.1f", top + plot_h) + "\" x2=\"" +
         fmt("%.1f", left + plot_w) + "\" y2=\"" + fmt("%.1f", top + plot_h) + "\" stroke=\"black\"/>\n";
  svg += "<line x1=\"" + fmt("%.1f", left) + "\" y1=\"" + fmt("%.1f", top) + "\" x2=\"" + fmt("%.1f", left) +
         "\" y2=\"" + fmt("%.1f", top + plot_h) + "\" stroke=\"black\"/>\n";
  svg += "<line class=\"tgmax\" x1=\"" + fmt("%.1f", tg_x) + "\" y1=\"" + fmt("%.1f", top) + "\" x2=\"" +
         fmt("%.1f", tg_x) + "\" y2=\"" + fmt("%.1f", top + plot_h) +
         "\" stroke=\"#d62728\" stroke-dasharray=\"4,3\"/>\n";
  svg += "<text x=\"" + fmt("%.1f", tg_x + 4) + "\" y=\"" + fmt("%.1f", top + 12) + "\" fill=\"#d62728\">t-gmax " +
         commas(static_cast<std::int64_t>(profile.tg)) + " " + escape(profile.time_unit) + "</text>\n";
  svg += "<text x=\"" + fmt("%.0f", left - 6) + "\" y=\"" + fmt("%.1f", top + 4) + "\" text-anchor=\"end\">" +
         commas(static_cast<std::int64_t>(peak)) + " B</text>\n";
  svg += "<text x=\"" + fmt("%.0f", left - 6) + "\" y=\"" + fmt("%.1f", top + plot_h) +
         "\" text-anchor=\"end\">0</text>\n";
  svg += "<text x=\"" + fmt("%.1f", left + plot_w) + "\" y=\"" + fmt("%.1f", top + plot_h + 16) +
         "\" text-anchor=\"end\">t-end " + commas(static_cast<std::int64_t>(profile.te)) + " " +
         escape(profile.time_unit) + "</text>\n";
  svg += "</svg>\n";
  std::string error;
  if (!write_output(out, svg, &error)) {
    return usage_error(error);
  }
  std::cout << "dhat-view: wrote " << out << " (peak " << commas(static_cast<std::int64_t>(peak)) << " bytes)\n";
  if (png) {
    const std::string png_path =
        out.substr(0, out.size() - (out.size() > 4 && out.substr(out.size() - 4) == ".svg" ? 4 : 0)) + ".png";
    const std::string command = "rsvg-convert -o '" + png_path + "' '" + out + "' 2>/dev/null";
    if (std::system(command.c_str()) == 0) {
      std::cout << "dhat-view: wrote " << png_path << "\n";
    } else {
      std::cout << "dhat-view: no PNG: rsvg-convert is not installed (apt-get install librsvg2-bin)\n";
    }
  }
  return 0;
}

}  // namespace dhat::viewer
