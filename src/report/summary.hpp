// The stderr summary in dhat-rs's shape ("dhat: Total: 1,256 bytes in 4 blocks", ...).
//
// Contract: pure formatting; the caller prints.
#pragma once

#include <cstdint>
#include <string>

namespace dhat::report {

struct SummaryNumbers {
  std::uint64_t total_bytes = 0, total_blocks = 0;
  std::uint64_t gmax_bytes = 0, gmax_blocks = 0;
  std::uint64_t end_bytes = 0, end_blocks = 0;
};

std::string format_summary(const SummaryNumbers& numbers);
// Ad hoc: "dhat: Total:     N units in M events".
std::string format_ad_hoc_summary(std::uint64_t units, std::uint64_t events);

}  // namespace dhat::report
