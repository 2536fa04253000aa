// Where the profiler's end-of-run lines go, and what a process started under dhat-run says.
//
// Contract: `keep_stderr` (at the start of a run) keeps a duplicate of the standard error the
// run started with; `say` writes a whole text with write(2) to fd 2 if it is still open, else to
// that duplicate. Programs in the style of coreutils close stderr in their own exit handlers,
// which run before the profiler's: the summary line naming the file was lost (and stdio's
// stderr, once closed, must not be used at all). A forked child closes its copy of the
// duplicate, so that a daemon that detaches does not hold its caller's pipe open.
//
// Under dhat-run (DHAT_RUN_MAIN_PID and DHAT_RUN_LEDGER in the environment), the processes the
// started program starts write their profiles quietly and note each file in the ledger; the
// started program, at its end, says how many there were: one line, not a summary per process.
// (If the started program writes no profile of its own, `_exit` or a fatal signal, that line is
// not said and the ledger, if a child made one, stays in $TMPDIR.)
#pragma once

#include <string>

namespace dhat::runtime {

void keep_stderr() noexcept;
void say(const std::string& text) noexcept;

// Whether this process is one that dhat-run's program started (not the program itself).
[[nodiscard]] bool is_child_of_dhat_run() noexcept;
// `dhat-run --no-children` (DHAT_RUN_NO_CHILDREN): this process is such a child and is not
// profiled (started by exec: no run; forked: its run writes nothing).
[[nodiscard]] bool is_unprofiled_child_of_dhat_run() noexcept;
// `dhat-run --merge` (DHAT_RUN_MERGE): dhat-run merges every process's profile at the end and
// says where the result is; the started program names no file of its own.
[[nodiscard]] bool dhat_run_merges() noexcept;
// For a child: notes `path` in the ledger. For the started program: the line naming how many
// profiles its children wrote ("" if none, or not under dhat-run); the ledger is then removed.
void note_child_profile(const std::string& path) noexcept;
[[nodiscard]] std::string children_line();

}  // namespace dhat::runtime
