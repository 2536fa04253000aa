// The heap and the process's resident memory (RSS) side by side: `dhat-view plot` draws both.
//
// Two phases a heap profile alone cannot tell apart:
//  1. A 64 MiB scratch buffer is filled, used and released: RSS rises and falls with the heap.
//  2. An index of 300,000 small records is built, then all but every 64th is evicted: the heap
//     drops to under 2 MB, but the survivors sit on every page glibc's malloc carved the records
//     from, so it cannot give those pages back and RSS stays about 30 MB above the heap.
#include <dhat/dhat.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Record {
  std::uint64_t key;
  char payload[88];
};

// A little heap traffic over a few milliseconds: the profiler reads RSS as the heap changes.
std::size_t busy_work(int rounds) {
  std::size_t total = 0;
  for (int i = 0; i < rounds; ++i) {
    const std::string line = "line " + std::to_string(i) + " of some text long enough to allocate";
    total += line.size();
  }
  return total;
}

std::uint64_t use_scratch_buffer() {
  std::vector<std::uint8_t> scratch(std::size_t{64} << 20, 1);  // filled: every page is touched
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < scratch.size(); i += 4096) {
    sum += scratch[i];
  }
  return sum + busy_work(20000);
}

std::vector<std::unique_ptr<Record>> build_and_evict() {
  std::vector<std::unique_ptr<Record>> index;
  for (std::uint64_t key = 0; key < 300000; ++key) {
    index.push_back(std::make_unique<Record>(Record{key, {}}));
  }
  std::vector<std::unique_ptr<Record>> pinned;
  for (std::size_t i = 0; i < index.size(); i += 64) {
    pinned.push_back(std::move(index[i]));
  }
  return pinned;  // `index` and the other 295,312 records are freed here
}

}  // namespace

int main() {
  std::vector<std::unique_ptr<Record>> pinned;  // outlives the profiler: live at t-end
  dhat::Profiler profiler;
  std::size_t checksum = busy_work(20000);
  checksum += use_scratch_buffer();
  checksum += busy_work(20000);
  pinned = build_and_evict();
  checksum += busy_work(40000) + pinned.size();
  std::printf("checksum %zu\n", checksum);
}
