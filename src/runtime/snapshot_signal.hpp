// Snapshots on a signal (opt-in: DHAT_SNAPSHOT_SIGNAL=SIGUSR2, USR2 or a number).
//
// Contract: the signal handler only posts a semaphore (async-signal-safe); a helper thread,
// started once, writes the snapshot. A malformed value gets one `dhat:` line and no handler.
#pragma once

namespace dhat::runtime {

// Reads DHAT_SNAPSHOT_SIGNAL and installs the handler and helper thread (once per process).
void install_snapshot_signal();

}  // namespace dhat::runtime
