// dhat-view plot: the heap's size over the run as an SVG (and a PNG when rsvg-convert is
// installed), with t-gmax marked, and the process's RSS beside it. Draws dhat-cpp's
// "dhatCppTimeline" and "dhatCppRss" fields.
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
    "  marked, and the process's resident memory (RSS) beside it when the profile has it.\n"
    "  Writes OUT.svg (default: FILE with .svg); with --png also OUT.png via rsvg-convert.\n"
    "  Needs a dhat-cpp heap profile (it records the timeline).\n";

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

// The picture's size and margins.
struct Frame {
  double width = 900, height = 360, left = 100, right = 20, top = 40, bottom = 76;
  double plot_w() const { return width - left - right; }
  double plot_h() const { return height - top - bottom; }
};

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + fmt("%.1f", x1) + "\" y1=\"" + fmt("%.1f", y1) + "\" x2=\"" + fmt("%.1f", x2) + "\" y2=\"" +
         fmt("%.1f", y2) + "\" " + style + "/>\n";
}

// "x,y x,y ...": each bucket's most as a flat step across its width.
template <typename X, typename Y>
std::string step_points(const Levels& levels, const X& x_of, const Y& y_of) {
  std::string points;
  const double bucket = static_cast<double>(levels.bucket);
  for (std::size_t i = 0; i < levels.max.size(); ++i) {
    const double y = y_of(static_cast<double>(levels.max[i]));
    points += (i == 0 ? "" : " ") + fmt("%.1f,%.1f ", x_of(bucket * static_cast<double>(i)), y) +
              fmt("%.1f,%.1f", x_of(bucket * static_cast<double>(i + 1)), y);
  }
  return points;
}

// Round steps that cut 0..top into at most five parts (0 when top is 0): 1, 2 or 5 times a
// power of ten for time, a power of two for bytes (so that they read as whole KiB/MiB/GiB).
std::uint64_t decimal_step(std::uint64_t top) {
  for (std::uint64_t scale = 1; top != 0; scale *= 10) {
    for (const std::uint64_t m : {1, 2, 5}) {
      if (top / (m * scale) <= 5) {
        return m * scale;
      }
    }
  }
  return 0;
}
std::uint64_t binary_step(std::uint64_t top) {
  std::uint64_t step = 1;
  while (top != 0 && top / step > 5) {
    step *= 2;
  }
  return top == 0 ? 0 : step;
}

// 3145728 -> "3 MiB"; values that are not whole in the unit keep one decimal.
std::string binary_size(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return fmt(value == static_cast<double>(static_cast<std::uint64_t>(value)) ? "%.0f" : "%.1f", value) + " " +
         units[unit];
}

// "x,y x,y ...": a point at the middle of each bucket that holds a reading (not 0).
template <typename X, typename Y>
std::string reading_points(const Levels& levels, const X& x_of, const Y& y_of) {
  std::string points;
  const double bucket = static_cast<double>(levels.bucket);
  for (std::size_t i = 0; i < levels.max.size(); ++i) {
    if (levels.max[i] != 0) {
      points += (points.empty() ? "" : " ") + fmt("%.1f,%.1f", x_of(bucket * (static_cast<double>(i) + 0.5)),
                                                  y_of(static_cast<double>(levels.max[i])));
    }
  }
  return points;
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
  if (profile.timeline.max.empty()) {
    return usage_error("'" + path + "' has no heap timeline (only dhat-cpp heap profiles record one)");
  }
  if (out.empty()) {
    out =
        (path.size() > 5 && path.substr(path.size() - 5) == ".json" ? path.substr(0, path.size() - 5) : path) + ".svg";
  }
  const Frame f;
  const std::uint64_t heap_peak = *std::max_element(profile.timeline.max.begin(), profile.timeline.max.end());
  const bool has_rss = !profile.rss.max.empty();
  const std::uint64_t rss_peak =
      has_rss ? std::max(profile.peak_rss, *std::max_element(profile.rss.max.begin(), profile.rss.max.end())) : 0;
  const std::uint64_t top_bytes = std::max(heap_peak, rss_peak);
  const double span = static_cast<double>(std::max<std::uint64_t>(profile.te, 1));
  auto x_of = [&](double t) { return f.left + f.plot_w() * std::min(t, span) / span; };
  auto y_of = [&](double bytes) {
    return f.top + f.plot_h() * (1.0 - (top_bytes == 0 ? 0.0 : bytes / static_cast<double>(top_bytes)));
  };

  const std::string heap_points = step_points(profile.timeline, x_of, y_of);
  const double tg_x = x_of(static_cast<double>(profile.tg));
  const double axis_y = f.top + f.plot_h();

  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", f.width) + "\" height=\"" +
         fmt("%.0f", f.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // The plotting area, for readers of the picture (and its browser test): bytes from 0 at the
  // bottom to data-top-bytes at the top, time from 0 at the left to data-end-time at the right.
  svg += "<rect class=\"plot-area\" x=\"" + fmt("%.1f", f.left) + "\" y=\"" + fmt("%.1f", f.top) + "\" width=\"" +
         fmt("%.1f", f.plot_w()) + "\" height=\"" + fmt("%.1f", f.plot_h()) + "\" fill=\"none\" data-top-bytes=\"" +
         std::to_string(top_bytes) + "\" data-end-time=\"" + std::to_string(profile.te) + "\"/>\n";
  svg += "<text x=\"" + fmt("%.0f", f.left) + "\" y=\"20\" font-size=\"14\">" +
         (has_rss ? "Live heap and resident memory over time: " : "Live heap over time: ") +
         escape(profile.cmd.empty() ? path : profile.cmd) + "</text>\n";
  // The heap: a filled area from the axis up to each bucket's most live bytes.
  svg += "<polygon class=\"heap\" points=\"" + fmt("%.1f,%.1f ", x_of(0), axis_y) + heap_points +
         fmt(" %.1f,%.1f", x_of(span), axis_y) + "\" fill=\"#9ecae1\" stroke=\"#3182bd\"/>\n";
  if (has_rss) {
    // RSS: a line joining the readings (each bucket's highest) over the same time axis.
    svg += "<polyline class=\"rss\" points=\"" + reading_points(profile.rss, x_of, y_of) +
           "\" fill=\"none\" stroke=\"#e6550d\" stroke-width=\"2\"/>\n";
  }
  svg += line(f.left, axis_y, f.left + f.plot_w(), axis_y, "stroke=\"black\"");
  svg += line(f.left, f.top, f.left, axis_y, "stroke=\"black\"");
  // Round values on both axes, with light grid lines across the plot.
  const std::uint64_t byte_step = binary_step(top_bytes);
  for (std::uint64_t v = byte_step; byte_step != 0 && v < top_bytes; v += byte_step) {
    const double y = y_of(static_cast<double>(v));
    svg += line(f.left, y, f.left + f.plot_w(), y, "stroke=\"#dddddd\"");
    svg += "<text x=\"" + fmt("%.0f", f.left - 6) + "\" y=\"" + fmt("%.1f", y + 4) + "\" text-anchor=\"end\">" +
           binary_size(v) + "</text>\n";
  }
  const std::uint64_t time_step = decimal_step(profile.te);
  for (std::uint64_t t = time_step; time_step != 0 && t < profile.te; t += time_step) {
    const double x = x_of(static_cast<double>(t));
    svg += line(x, axis_y, x, axis_y + 4, "stroke=\"black\"");
    svg += "<text x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", axis_y + 16) + "\" text-anchor=\"middle\">" +
           commas(static_cast<std::int64_t>(t)) + "</text>\n";
  }
  svg += "<line class=\"tgmax\" x1=\"" + fmt("%.1f", tg_x) + "\" y1=\"" + fmt("%.1f", f.top) + "\" x2=\"" +
         fmt("%.1f", tg_x) + "\" y2=\"" + fmt("%.1f", axis_y) + "\" stroke=\"#d62728\" stroke-dasharray=\"4,3\"/>\n";
  svg += "<text x=\"" + fmt("%.1f", tg_x + 4) + "\" y=\"" + fmt("%.1f", f.top + 12) + "\" fill=\"#d62728\">t-gmax " +
         commas(static_cast<std::int64_t>(profile.tg)) + " " + escape(profile.time_unit) + "</text>\n";
  svg += "<text x=\"" + fmt("%.0f", f.left - 6) + "\" y=\"" + fmt("%.1f", axis_y) + "\" text-anchor=\"end\">0</text>\n";
  svg += "<text x=\"" + fmt("%.1f", f.left + f.plot_w()) + "\" y=\"" + fmt("%.1f", axis_y + 30) +
         "\" text-anchor=\"end\">t-end " + commas(static_cast<std::int64_t>(profile.te)) + " " +
         escape(profile.time_unit) + "</text>\n";
  // The legend, with each line's peak.
  const double legend_y = axis_y + 48;
  svg += "<rect x=\"" + fmt("%.0f", f.left) + "\" y=\"" + fmt("%.1f", legend_y - 9) +
         "\" width=\"14\" height=\"10\" fill=\"#9ecae1\" stroke=\"#3182bd\"/>\n";
  svg += "<text class=\"heap-legend\" x=\"" + fmt("%.0f", f.left + 20) + "\" y=\"" + fmt("%.1f", legend_y) +
         "\">live heap (peak " + commas(static_cast<std::int64_t>(heap_peak)) + " B, at t-gmax)</text>\n";
  if (has_rss) {
    const double x = f.left + 360;
    svg += line(x, legend_y - 4, x + 14, legend_y - 4, "stroke=\"#e6550d\" stroke-width=\"2\"");
    svg += "<text class=\"rss-legend\" x=\"" + fmt("%.0f", x + 20) + "\" y=\"" + fmt("%.1f", legend_y) +
           "\">resident memory, whole process (peak " + commas(static_cast<std::int64_t>(rss_peak)) + " B)</text>\n";
  }
  svg += "</svg>\n";
  std::string error;
  if (!write_output(out, svg, &error)) {
    return usage_error(error);
  }
  std::cout << "dhat-view: wrote " << out << " (heap peak " << commas(static_cast<std::int64_t>(heap_peak)) << " bytes";
  if (has_rss) {
    std::cout << ", RSS peak " << commas(static_cast<std::int64_t>(rss_peak)) << " bytes";
  }
  std::cout << ")\n";
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
