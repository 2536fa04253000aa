// Which call sites allocated between two moments of the running profile, symbolized: what a
// failed allocation check (dhat::check_allocations) shows the user.
//
// Contract: `take_site_totals` copies every program point's totals under the recorder's lock
// (false when nothing runs); `describe_grown_sites` symbolizes the points whose totals grew
// since `before`, most blocks first. Neither records its own allocations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dhat::runtime {

// Per-program-point totals at one moment, indexed by program point.
struct SiteTotals {
  std::vector<std::uint64_t> blocks;
  std::vector<std::uint64_t> bytes;
};

[[nodiscard]] bool take_site_totals(SiteTotals* out);

// "allocating call sites:" and up to `max_sites` sites, each with its blocks, bytes and frames;
// "" when nothing runs.
std::string describe_grown_sites(const SiteTotals& before, std::size_t max_sites);

}  // namespace dhat::runtime
