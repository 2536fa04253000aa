// dhat-view's subcommands. Each takes its arguments (after the subcommand's name), prints to
// stdout, and returns the process exit status: 0 success, 1 a failed check, 2 bad usage or input.
#pragma once

#include <string>
#include <vector>

namespace dhat::viewer {

using Args = std::vector<std::string>;

int summary_command(const Args& args);
int diff_command(const Args& args);
int check_command(const Args& args);
int open_command(const Args& args);
int plot_command(const Args& args);
int flamegraph_command(const Args& args);
int merge_command(const Args& args);

// Prints "dhat-view: MESSAGE" on stderr and returns 2.
int usage_error(const std::string& message);

}  // namespace dhat::viewer
