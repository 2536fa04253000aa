// The switched-off build: the same user code compiles, nothing is recorded or written, and the
// stats read as zeros. Exit status 0 means every check held.
#include <unistd.h>
#include <dhat/dhat.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

static_assert(DHAT_ENABLED == 0, "this program checks the switched-off build");

int main() {
  int failures = 0;
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name("switched-off.json").trim_backtraces(4).build();
    dhat::Profiler plain;
    std::vector<int> numbers(1000, 7);
    void* block = std::malloc(123);
    asm volatile("" : : "r"(block) : "memory");
    std::free(block);
    const dhat::HeapStats stats = dhat::HeapStats::get();
    if (stats.total_blocks != 0 || stats.total_bytes != 0 || stats.curr_bytes != 0 || stats.max_bytes != 0) {
      std::fputs("switched off: HeapStats is not zero\n", stderr);
      ++failures;
    }
    if (profiler.is_running() || plain.is_running()) {
      std::fputs("switched off: a Profiler claims to run\n", stderr);
      ++failures;
    }
    // The testing API compiles and reads as zeros / "unavailable".
    dhat::Section section;
    std::vector<int> more(100, 1);
    section.stop();
    if (section.measuring() || section.process().blocks != 0 || section.thread().bytes != 0) {
      std::fputs("switched off: a Section measured something\n", stderr);
      ++failures;
    }
    dhat::ad_hoc_event(5);
    if (dhat::AdHocStats::get().total_events != 0) {
      std::fputs("switched off: AdHocStats is not zero\n", stderr);
      ++failures;
    }
    const dhat::AllocationCheck check = dhat::check_allocations([&] { more.push_back(1); });
    if (check.report.find("switched off") == std::string::npos) {
      std::fputs("switched off: check_allocations does not say it is unavailable\n", stderr);
      ++failures;
    }
    DHAT_ASSERT_EQ(stats.total_blocks, 12345U);  // checks nothing when switched off
    DHAT_ASSERT(false);
  }
  if (access("switched-off.json", F_OK) == 0) {
    std::fputs("switched off: a profile was written\n", stderr);
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}
