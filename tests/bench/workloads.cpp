// Benchmark workloads, each deterministic. Built twice: `bench_plain` (switched-off API, the
// baseline) and `bench_dhat` (profiled). usage: bench_{plain,dhat} WORKLOAD [smoke|full]
//   new_delete       tight loop of small new/delete pairs (the worst case), 1 thread
//   new_delete_mt    the same on 4 threads
//   stl_churn        map, unordered_map, string, vector
//   json             nlohmann_json dump + parse + dump of a generated document
#include <dhat/dhat.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

long g_sink = 0;  // results go here so the optimizer keeps the work

void keep(void* pointer) { asm volatile("" : : "r"(pointer) : "memory"); }

void new_delete(long iterations) {
  for (long i = 0; i < iterations; ++i) {
    auto* block = new char[16 + static_cast<std::size_t>(i & 63)];
    keep(block);
    delete[] block;
  }
}

void new_delete_threads(long iterations, int threads) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(new_delete, iterations / threads);
  }
  for (auto& worker : workers) {
    worker.join();
  }
}

void stl_churn(int rounds) {
  for (int round = 0; round < rounds; ++round) {
    std::map<int, std::string> ordered;
    std::unordered_map<std::string, int> hashed;
    std::vector<std::string> words;
    for (int i = 0; i < 2000; ++i) {
      std::string word = "word-" + std::to_string(i * 7919 % 10007) + "-with-a-long-enough-tail";
      ordered[i] = word;
      hashed[word] = i;
      words.push_back(std::move(word));
    }
    for (const auto& word : words) {
      g_sink += hashed[word];
    }
    g_sink += static_cast<long>(ordered.size());
  }
}

void json_roundtrip(int records) {
  nlohmann::json document = nlohmann::json::array();
  for (int i = 0; i < records; ++i) {
    document.push_back({{"id", i},
                        {"name", "record-" + std::to_string(i)},
                        {"score", i * 0.5},
                        {"tags", {"alpha", "beta", std::to_string(i % 97)}},
                        {"nested", {{"x", i % 13}, {"y", "value-" + std::to_string(i % 101)}}}});
  }
  const std::string text = document.dump();
  const nlohmann::json parsed = nlohmann::json::parse(text);
  g_sink += static_cast<long>(parsed.dump().size() + text.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: bench WORKLOAD [smoke|full]\n", stderr);
    return 2;
  }
  const bool smoke = argc > 2 && std::strcmp(argv[2], "smoke") == 0;
  const std::string workload = argv[1];
  dhat::Profiler profiler = dhat::Profiler::builder().file_name("bench-" + workload + ".json").build();
  if (workload == "new_delete") {
    new_delete(smoke ? 10000 : 40000000);
  } else if (workload == "new_delete_mt") {
    new_delete_threads(smoke ? 10000 : 40000000, 4);
  } else if (workload == "stl_churn") {
    stl_churn(smoke ? 2 : 500);
  } else if (workload == "json") {
    json_roundtrip(smoke ? 1000 : 100000);
  } else {
    std::fprintf(stderr, "unknown workload %s\n", workload.c_str());
    return 2;
  }
  return g_sink == 42 ? 1 : 0;
}
