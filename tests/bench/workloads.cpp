// Benchmark workloads, each deterministic. Built twice: `bench_plain` (switched-off API, the
// baseline) and `bench_dhat` (profiled). usage: bench_{plain,dhat} WORKLOAD [smoke|full]
//   new_delete       tight loop of small new/delete pairs (the worst case), 1 thread
//   new_delete_mt    the same on 4 threads
//   stl_churn        map, unordered_map, string, vector
//   json             nlohmann_json dump + parse + dump of a generated document
//   sqlite           libsqlite3: in-memory table with an index, inserts, then queries
//   many_stacks      65,536 distinct allocation stacks (template-generated call chains)
//   growing_heap     a heap that reaches a new peak before almost every free
// Full sizes run 0.5-1.2 s plain on the project's 2-core machines, whose speed varied by 1.7x
// between sessions (so that no workload drops under the 0.5 s floor).
#include <sqlite3.h>
#include <dhat/dhat.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
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
  workers.reserve(static_cast<std::size_t>(threads));
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

void sqlite_inserts(int rows) {
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    std::fputs("sqlite3_open failed\n", stderr);
    std::exit(3);
  }
  sqlite3_exec(db,
               "CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, score REAL, tag TEXT);"
               "CREATE INDEX item_tag ON item(tag, score);",
               nullptr, nullptr, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO item(name, score, tag) VALUES(?, ?, ?)", -1, &insert, nullptr);
  for (int i = 0; i < rows; ++i) {
    const std::string name = "item-" + std::to_string(i * 7919 % 100003);
    const std::string tag = "tag-" + std::to_string(i % 211);
    sqlite3_bind_text(insert, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(insert, 2, (i % 1000) * 0.25);
    sqlite3_bind_text(insert, 3, tag.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(insert);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_stmt* query = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*), sum(score) FROM item WHERE tag = ? AND score > ?", -1, &query, nullptr);
  for (int q = 0; q < rows / 20; ++q) {
    const std::string tag = "tag-" + std::to_string(q % 211);
    sqlite3_bind_text(query, 1, tag.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(query, 2, (q % 100) * 1.0);
    while (sqlite3_step(query) == SQLITE_ROW) {
      g_sink += sqlite3_column_int(query, 0);
    }
    sqlite3_reset(query);
  }
  sqlite3_finalize(query);
  sqlite3_close(db);
}

// Call chains with kFanout call sites per level and kLevels levels: kFanout^kLevels distinct
// stacks (65,536), from kLevels * kFanout functions and kLevels * kFanout^2 call sites.
constexpr unsigned kFanout = 16;
constexpr int kLevels = 4;

template <int Level, unsigned Variant>
__attribute__((noinline)) void chain(unsigned path, std::vector<char*>* kept);

template <int Level, unsigned... Variants>
void dispatch(unsigned path, std::vector<char*>* kept, std::integer_sequence<unsigned, Variants...>) {
  // One distinct call site per Variant (each call expands to its own call instruction).
  const unsigned digit = path % kFanout;
  ((digit == Variants ? chain<Level + 1, Variants>(path / kFanout, kept) : void()), ...);
}

template <int Level, unsigned Variant>
__attribute__((noinline)) void chain(unsigned path, std::vector<char*>* kept) {
  if constexpr (Level == kLevels) {
    char* block = new char[24 + Variant * 8];
    keep(block);
    if (path % 4 == 0) {
      kept->push_back(block);  // a quarter stay live until the end of the workload
    } else {
      delete[] block;
    }
  } else {
    dispatch<Level>(path, kept, std::make_integer_sequence<unsigned, kFanout>{});
  }
  g_sink += static_cast<long>(Variant) * (Level + 1);  // distinct bodies: identical code folding would merge them
  keep(kept);                                          // not a tail call: every level keeps its frame
}

void many_stacks(int rounds) {
  std::vector<char*> kept;
  std::vector<char*> freed_at_once;
  for (int round = 0; round < rounds; ++round) {
    for (unsigned path = 0; path < 65536; ++path) {
      // The digits of `path` pick the route; blocks of later rounds are all freed at once.
      chain<0, 0>(path, round == 0 ? &kept : &freed_at_once);
      for (char* block : freed_at_once) {
        delete[] block;
      }
      freed_at_once.clear();
    }
  }
  for (char* block : kept) {
    delete[] block;
  }
}

// Every allocation raises the heap to a new peak; one free per two allocations.
void growing_heap(long allocations) {
  std::vector<char*> blocks;
  blocks.reserve(static_cast<std::size_t>(allocations));
  unsigned state = 12345;
  for (long i = 0; i < allocations; ++i) {
    blocks.push_back(new char[32 + static_cast<std::size_t>(i % 7) * 16]);
    keep(blocks.back());
    if (i % 2 == 1) {
      state = state * 1103515245U + 12345U;
      const std::size_t victim = state % blocks.size();
      delete[] blocks[victim];
      blocks[victim] = blocks.back();
      blocks.pop_back();
    }
  }
  for (char* block : blocks) {
    delete[] block;
  }
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
    new_delete(smoke ? 10000 : 80000000);
  } else if (workload == "new_delete_mt") {
    new_delete_threads(smoke ? 10000 : 160000000, 4);
  } else if (workload == "stl_churn") {
    stl_churn(smoke ? 2 : 1500);
  } else if (workload == "json") {
    json_roundtrip(smoke ? 1000 : 100000);
  } else if (workload == "sqlite") {
    sqlite_inserts(smoke ? 500 : 200000);
  } else if (workload == "many_stacks") {
    many_stacks(smoke ? 1 : 250);
  } else if (workload == "growing_heap") {
    growing_heap(smoke ? 10000 : 6000000);
  } else {
    std::fprintf(stderr, "unknown workload %s\n", workload.c_str());
    return 2;
  }
  return g_sink == 42 ? 1 : 0;
}
