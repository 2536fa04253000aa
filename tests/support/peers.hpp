// Test support: skip a test whose peer tool is not installed (cmake/DhatTestPeers.cmake defines
// DHAT_HAVE_<TOOL> as 1 or 0 for every test; CI requires them all).
#pragma once

#include <gtest/gtest.h>

#define DHAT_SKIP_WITHOUT(have, tool) \
  if (!(have)) GTEST_SKIP() << (tool) << " is not installed: this test needs it"
