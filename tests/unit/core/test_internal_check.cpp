// The internal checks (core/internal_check.hpp): a failed one says where and what, in one
// `dhat:` line, and stops the process; and the run's life-cycle rule that set_phase checks.
#include <gtest/gtest.h>

#include "core/internal_check.hpp"
#include "core/recorder_state.hpp"

namespace {

using dhat::core::is_legal_phase_step;
using dhat::core::Phase;

TEST(InternalCheck, AFailedCheckNamesItsPlaceAndConditionAndAborts) {
  // (Under qemu-user, the emulator adds a line of its own about the abort.)
  EXPECT_DEATH(dhat::core::internal_check_failed("head < capacity", "core/event_ring.hpp", 87),
               "^dhat: internal check failed: core/event_ring.hpp:87: head < capacity\n"
               "(qemu: uncaught target signal 6 \\(Aborted\\) - core dumped\n)?$");
}

TEST(InternalCheck, ARunGoesIdleStartedStoppedIdleAndNoOtherWay) {
  const Phase all[] = {Phase::idle, Phase::recording, Phase::stopped, Phase::ad_hoc};
  int legal = 0;
  for (Phase from : all) {
    for (Phase to : all) {
      legal += is_legal_phase_step(from, to) ? 1 : 0;
    }
  }
  EXPECT_EQ(legal, 5);
  EXPECT_TRUE(is_legal_phase_step(Phase::idle, Phase::recording));
  EXPECT_TRUE(is_legal_phase_step(Phase::idle, Phase::ad_hoc));
  EXPECT_TRUE(is_legal_phase_step(Phase::recording, Phase::stopped));
  EXPECT_TRUE(is_legal_phase_step(Phase::ad_hoc, Phase::stopped));
  EXPECT_TRUE(is_legal_phase_step(Phase::stopped, Phase::idle));
  EXPECT_FALSE(is_legal_phase_step(Phase::recording, Phase::idle)) << "a run is stopped before it is reset";
  EXPECT_FALSE(is_legal_phase_step(Phase::stopped, Phase::recording)) << "a new run starts from idle";
}

}  // namespace
