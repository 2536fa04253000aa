// The stderr summary in dhat-rs's shape.
#include <gtest/gtest.h>

#include "report/summary.hpp"

using namespace dhat::report;

namespace {

TEST(Summary, HeapShape) {
  EXPECT_EQ(format_summary(SummaryNumbers{1256, 4, 1024, 1, 0, 0}),
            "dhat: Total:     1,256 bytes in 4 blocks\n"
            "dhat: At t-gmax: 1,024 bytes in 1 blocks\n"
            "dhat: At t-end:  0 bytes in 0 blocks\n");
}

TEST(Summary, AdHocShape) {
  EXPECT_EQ(format_ad_hoc_summary(1234567, 12), "dhat: Total:     1,234,567 units in 12 events\n");
}

}  // namespace
