// Ad hoc profiling: count anything, by call stack. Here: bytes read by each kind of parser.
// Writes dhat-ad-hoc.json, which the stock dh_view.html opens like a heap profile.
#include <dhat/dhat.hpp>

#include <cstdio>
#include <string>

namespace {

__attribute__((noinline)) void parse_header(const std::string& text) { dhat::ad_hoc_event(text.size()); }
__attribute__((noinline)) void parse_body(const std::string& text) { dhat::ad_hoc_event(text.size()); }

}  // namespace

int main() {
  dhat::Profiler profiler = dhat::Profiler::builder().ad_hoc().build();
  for (int i = 0; i < 1000; ++i) {
    parse_header("Content-Length: " + std::to_string(i));
    parse_body(std::string(static_cast<std::size_t>(i % 100), 'x'));
  }
  const dhat::AdHocStats stats = dhat::AdHocStats::get();
  std::printf("%llu events, %llu units\n", static_cast<unsigned long long>(stats.total_events),
              static_cast<unsigned long long>(stats.total_units));
  return 0;
}
