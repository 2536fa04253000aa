// dhat-view check: a CI gate. Exit 0 when the profile is within every limit given, 1 (with one
// line per exceeded limit) when it is not, 2 on bad usage or input.
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "format/frame_text.hpp"
#include "metrics.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

const char* kHelp =
    "usage: dhat-view check FILE [--max-total-bytes N] [--max-total-blocks N] [--max-gmax-bytes N]\n"
    "                            [--max-end-bytes N] [--max-temporary N]\n"
    "                            [--max-function-bytes FUNCTION=N]...\n"
    "  Fails (exit 1) when the profile exceeds a limit. --max-temporary limits the temporary\n"
    "  blocks (freed by their thread before it allocated again; dhat-cpp heap profiles).\n"
    "  --max-function-bytes limits the total bytes of the program points with FUNCTION in any of\n"
    "  their frames.\n";

struct FunctionLimit {
  std::string function;
  std::uint64_t max_bytes;
};

}  // namespace

int check_command(const Args& args) {
  std::string path;
  struct Limit {
    const char* option;
    const char* label;
    bool set = false;
    std::uint64_t value = 0;
  };
  Limit limits[] = {{"--max-total-bytes", "total bytes"},
                    {"--max-total-blocks", "total blocks"},
                    {"--max-gmax-bytes", "bytes at t-gmax"},
                    {"--max-end-bytes", "bytes at t-end"},
                    {"--max-temporary", "temporary blocks"}};
  std::vector<FunctionLimit> function_limits;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    }
    bool known = false;
    for (Limit& limit : limits) {
      if (a == limit.option) {
        known = true;
        if (i + 1 >= args.size() || !parse_count(args[i + 1], &limit.value)) {
          return usage_error(a + " needs a whole number");
        }
        limit.set = true;
        ++i;
      }
    }
    if (known) {
      continue;
    }
    if (a == "--max-function-bytes") {
      const std::string spec = i + 1 < args.size() ? args[++i] : "";
      const std::size_t eq = spec.rfind('=');
      FunctionLimit limit{};
      if (eq == std::string::npos || eq == 0 || !parse_count(spec.substr(eq + 1), &limit.max_bytes)) {
        return usage_error("--max-function-bytes needs FUNCTION=N, not '" + spec + "'");
      }
      limit.function = spec.substr(0, eq);
      function_limits.push_back(limit);
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("check: unknown option '" + a + "'\n" + kHelp);
    } else if (path.empty()) {
      path = a;
    } else {
      return usage_error("check takes one file");
    }
  }
  if (path.empty()) {
    return usage_error(std::string("check needs a file\n") + kHelp);
  }
  bool any = !function_limits.empty();
  for (const Limit& limit : limits) {
    any |= limit.set;
  }
  if (!any) {
    return usage_error(std::string("check needs at least one limit\n") + kHelp);
  }
  const Profile profile = load_profile(path);
  if (limits[4].set) {
    if (const std::string why = metric_unavailable(profile, Metric::temporary); !why.empty()) {
      return usage_error(why);
    }
  }
  std::uint64_t actual[5] = {0, 0, 0, 0, 0};
  for (const auto& pp : profile.pps) {
    actual[0] += pp.tb;
    actual[1] += pp.tbk;
    actual[2] += pp.gb;
    actual[3] += pp.eb;
    actual[4] += pp.tmpbk;
  }
  static_assert(sizeof(actual) / sizeof(actual[0]) == sizeof(limits) / sizeof(limits[0]), "a total per limit");
  int failures = 0;
  for (int i = 0; i < 5; ++i) {
    if (limits[i].set && actual[i] > limits[i].value) {
      std::cout << "dhat-view: check failed: " << limits[i].label << " " << commas(static_cast<std::int64_t>(actual[i]))
                << " > limit " << commas(static_cast<std::int64_t>(limits[i].value)) << "\n";
      ++failures;
    }
  }
  for (const FunctionLimit& limit : function_limits) {
    std::uint64_t bytes = 0;
    for (const auto& pp : profile.pps) {
      for (const auto& frame : pp.frames) {
        if (format::without_address(frame).find(limit.function) != std::string_view::npos) {
          bytes += pp.tb;
          break;
        }
      }
    }
    if (bytes > limit.max_bytes) {
      std::cout << "dhat-view: check failed: total bytes under '" << limit.function << "' "
                << commas(static_cast<std::int64_t>(bytes)) << " > limit "
                << commas(static_cast<std::int64_t>(limit.max_bytes)) << "\n";
      ++failures;
    }
  }
  if (failures != 0) {
    return 1;
  }
  std::cout << "dhat-view: check passed: " << path << " is within every limit\n";
  return 0;
}

}  // namespace dhat::viewer
