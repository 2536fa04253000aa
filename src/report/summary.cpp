#include "report/summary.hpp"

#include "format/numbers.hpp"

namespace dhat::report {

using format::with_commas;

std::string format_summary(const SummaryNumbers& n) {
  return "dhat: Total:     " + with_commas(n.total_bytes) + " bytes in " + with_commas(n.total_blocks) + " blocks\n" +
         "dhat: At t-gmax: " + with_commas(n.gmax_bytes) + " bytes in " + with_commas(n.gmax_blocks) + " blocks\n" +
         "dhat: At t-end:  " + with_commas(n.end_bytes) + " bytes in " + with_commas(n.end_blocks) + " blocks\n";
}

std::string format_ad_hoc_summary(std::uint64_t units, std::uint64_t events) {
  return "dhat: Total:     " + with_commas(units) + " units in " + with_commas(events) + " events\n";
}

}  // namespace dhat::report
