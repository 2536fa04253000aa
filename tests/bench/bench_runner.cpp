// Runs the benchmark workloads side by side and prints medians and ratios:
// plain, dhat-cpp, valgrind --tool=dhat and heaptrack (record only), alternating runs so that a
// noisy machine hurts every column alike. Wall time and peak RSS (of the whole process tree).
//
// usage: bench_runner --plain BIN --dhat BIN [--jemalloc PLAIN_BIN DHAT_BIN] [--runs N]
//                     [--peer-runs N] [--smoke] [--no-valgrind] [--no-heaptrack] [WORKLOAD...]
// --jemalloc adds rows (stl_churn@je, new_delete_mt@je) for the workloads linked with jemalloc.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Sample {
  double seconds = 0;
  long max_rss_kib = 0;
  bool ok = false;
};

// Runs argv in a helper process so that RUSAGE_CHILDREN covers exactly that command's process
// tree (heaptrack runs the program as a grandchild).
Sample measure(const std::vector<std::string>& argv) {
  int channel[2];
  if (pipe(channel) != 0) {
    return {};
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t helper = fork();
  if (helper == 0) {
    close(channel[0]);
    const pid_t child = fork();
    if (child == 0) {
      const int null_fd = open("/dev/null", O_WRONLY);  // the tools' own chatter
      dup2(null_fd, 1);
      dup2(null_fd, 2);
      std::vector<char*> args;
      args.reserve(argv.size() + 1);
      for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
      }
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    long result[2] = {usage.ru_maxrss, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1L : 0L};
    if (write(channel[1], result, sizeof result) != sizeof result) {
      _exit(1);
    }
    _exit(0);
  }
  close(channel[1]);
  long result[2] = {0, 0};
  const bool got = read(channel[0], result, sizeof result) == sizeof result;
  close(channel[0]);
  waitpid(helper, nullptr, 0);
  const auto end = std::chrono::steady_clock::now();
  Sample sample;
  sample.seconds = std::chrono::duration<double>(end - start).count();
  sample.max_rss_kib = result[0];
  sample.ok = got && result[1] == 1;
  return sample;
}

double median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Column {
  std::string name;
  std::vector<std::string> prefix;  // the command that wraps the workload binary
  bool use_dhat_binary = false;
  int runs = 0;
  std::vector<double> seconds, rss;
  bool failed = false;
};

}  // namespace

int main(int argc, char** argv) {
  std::string plain, dhat, jemalloc_plain, jemalloc_dhat;
  int runs = 5, peer_runs = 3;
  bool smoke = false, valgrind = true, heaptrack = true;
  std::vector<std::string> workloads;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--plain" && i + 1 < argc)
      plain = argv[++i];
    else if (arg == "--dhat" && i + 1 < argc)
      dhat = argv[++i];
    else if (arg == "--jemalloc" && i + 2 < argc) {
      jemalloc_plain = argv[++i];
      jemalloc_dhat = argv[++i];
    } else if (arg == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (arg == "--peer-runs" && i + 1 < argc)
      peer_runs = std::atoi(argv[++i]);
    else if (arg == "--smoke")
      smoke = true;
    else if (arg == "--no-valgrind")
      valgrind = false;
    else if (arg == "--no-heaptrack")
      heaptrack = false;
    else
      workloads.push_back(arg);
  }
  if (plain.empty() || dhat.empty() || runs < 1) {
    std::fputs(
        "usage: bench_runner --plain BIN --dhat BIN [--jemalloc PLAIN_BIN DHAT_BIN] [--runs N] "
        "[--peer-runs N] [--smoke] [--no-valgrind] [--no-heaptrack] [WORKLOAD...]\n",
        stderr);
    return 2;
  }
  if (workloads.empty()) {
    workloads = {"new_delete", "new_delete_mt", "stl_churn", "json", "sqlite", "many_stacks", "growing_heap"};
  }
  const std::string size = smoke ? "smoke" : "full";
  std::printf(
      "dhat-cpp benchmark (%s sizes): median of %d runs (peers: %d), wall seconds and peak RSS,\n"
      "ratios to the plain run measured in the same rounds\n\n",
      size.c_str(), runs, peer_runs);
  std::printf("%-17s %9s %16s %18s %18s %10s %10s\n", "workload", "plain s", "dhat-cpp s (x)", "valgrind s (x)",
              "heaptrack s (x)", "plain MiB", "dhat MiB");
  // The same workloads on jemalloc (the programs linked with it), for the rows that say so: the
  // profiled program keeps its allocator (README: Programs with their own allocator). Valgrind
  // replaces only glibc's malloc, so it has no column there.
  struct Row {
    std::string workload;
    bool on_jemalloc;
  };
  std::vector<Row> rows;
  rows.reserve(2 * workloads.size());
  for (const std::string& workload : workloads) {
    rows.push_back({workload, false});
  }
  if (!jemalloc_plain.empty()) {
    for (const std::string& workload : workloads) {
      if (workload == "stl_churn" || workload == "new_delete_mt") {
        rows.push_back({workload, true});
      }
    }
  }
  int failed_workloads = 0;
  for (const Row& row : rows) {
    const std::string& workload = row.workload;
    const std::string& plain_binary = row.on_jemalloc ? jemalloc_plain : plain;
    const std::string& dhat_binary = row.on_jemalloc ? jemalloc_dhat : dhat;
    const bool with_valgrind = valgrind && !row.on_jemalloc;
    std::vector<Column> columns = {{"plain", {}, false, runs, {}, {}, false}, {"dhat", {}, true, runs, {}, {}, false}};
    if (with_valgrind) {
      columns.push_back({"valgrind",
                         {"valgrind", "--tool=dhat", "--dhat-out-file=/tmp/dhat-bench-valgrind.json"},
                         false,
                         peer_runs,
                         {},
                         {},
                         false});
    }
    if (heaptrack) {
      columns.push_back(
          {"heaptrack", {"heaptrack", "--raw", "-o", "/tmp/dhat-bench-heaptrack"}, false, peer_runs, {}, {}, false});
    }
    for (int round = 0; round < runs; ++round) {
      for (Column& column : columns) {
        if (round >= column.runs) {
          continue;
        }
        std::vector<std::string> command = column.prefix;
        command.push_back(column.use_dhat_binary ? dhat_binary : plain_binary);
        command.push_back(workload);
        command.push_back(size);
        const Sample sample = measure(command);
        column.failed |= !sample.ok;
        column.seconds.push_back(sample.seconds);
        column.rss.push_back(static_cast<double>(sample.max_rss_kib) / 1024.0);
      }
    }
    const double base = median(columns[0].seconds);
    auto cell = [&](std::size_t index) {
      char text[64];
      if (index >= columns.size()) {
        std::snprintf(text, sizeof text, "-");
      } else if (columns[index].failed) {
        std::snprintf(text, sizeof text, "FAILED");
      } else {
        const double s = median(columns[index].seconds);
        std::snprintf(text, sizeof text, "%.3f (%.1fx)", s, base > 0 ? s / base : 0.0);
      }
      return std::string(text);
    };
    bool any_failed = false;
    for (const Column& column : columns) {
      any_failed |= column.failed;
    }
    failed_workloads += any_failed ? 1 : 0;
    const std::string label = row.on_jemalloc ? workload + "@je" : workload;
    std::printf("%-17s %9.3f %16s %18s %18s %10.1f %10.1f\n", label.c_str(), base, cell(1).c_str(),
                cell(with_valgrind ? 2 : 99).c_str(), cell(with_valgrind ? 3 : 2).c_str(), median(columns[0].rss),
                median(columns[1].rss));
    std::fflush(stdout);
  }
  std::printf("\nbench: %zu passed, %d failed\n", rows.size() - static_cast<std::size_t>(failed_workloads),
              failed_workloads);
  return failed_workloads == 0 ? 0 : 1;
}
