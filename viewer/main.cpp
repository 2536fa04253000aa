// dhat-view: read, compare and gate DHAT profiles from the terminal (any DHAT file: dhat-cpp's,
// valgrind --tool=dhat's, dhat-rs's). Bad input is one clear line on stderr and exit 2.
#include <cstdio>
#include <iostream>
#include <new>
#include <string>

#include "commands.hpp"
#include "profile_file.hpp"

namespace {

const char* kHelp =
    "usage: dhat-view SUBCOMMAND [ARGS]\n"
    "  open FILE           the stock dh_view.html in a browser, FILE already loaded\n"
    "  summary FILE        header, totals and the top program points\n"
    "  diff BEFORE AFTER   what changed between two profiles\n"
    "  check FILE LIMITS   fail (exit 1) when a profile exceeds limits: a CI gate\n"
    "  plot FILE           the heap's size over the run as SVG (PNG with --png), t-gmax marked\n"
    "  flamegraph FILE     the call tree as a flame graph (one offline HTML file), or folded stacks\n"
    "  merge FILE... -o OUT  many profiles (processes, runs) summed into one DHAT file\n"
    "`dhat-view SUBCOMMAND --help` explains each.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kHelp;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  const dhat::viewer::Args args(argv + 2, argv + argc);
  try {
    if (command == "summary") return dhat::viewer::summary_command(args);
    if (command == "diff") return dhat::viewer::diff_command(args);
    if (command == "check") return dhat::viewer::check_command(args);
    if (command == "open") return dhat::viewer::open_command(args);
    if (command == "plot") return dhat::viewer::plot_command(args);
    if (command == "flamegraph") return dhat::viewer::flamegraph_command(args);
    if (command == "merge") return dhat::viewer::merge_command(args);
    return dhat::viewer::usage_error("unknown subcommand '" + command + "'\n" + kHelp);
  } catch (const dhat::viewer::ProfileError& error) {
    return dhat::viewer::usage_error(error.what());
  } catch (const std::bad_alloc&) {
    // Said without allocating: there may be nothing left to build a message with (building one
    // here threw again, out of main: "terminate called after throwing std::bad_alloc").
    std::fputs("dhat-view: out of memory: reading a profile needs about 3 times its size in memory\n", stderr);
    return 2;
  } catch (const std::exception& error) {
    return dhat::viewer::usage_error(std::string("unexpected error: ") + error.what());
  }
}
