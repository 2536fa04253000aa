#include "runtime/exit_messages.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "format/numbers.hpp"

namespace dhat::runtime {

namespace {

int g_kept_stderr = -1;

void forget_kept_stderr_in_child() {
  if (g_kept_stderr >= 0) {
    close(g_kept_stderr);
    g_kept_stderr = -1;
  }
}

void write_all(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    written += static_cast<std::size_t>(n);
  }
}

const char* ledger() {
  const char* path = std::getenv("DHAT_RUN_LEDGER");
  return path != nullptr && *path != '\0' ? path : nullptr;
}

}  // namespace

void keep_stderr() noexcept {
  static bool handler_installed = false;
  if (g_kept_stderr < 0) {
    g_kept_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
  }
  if (!handler_installed) {
    handler_installed = pthread_atfork(nullptr, nullptr, &forget_kept_stderr_in_child) == 0;
  }
}

void say(const std::string& text) noexcept {
  if (fcntl(2, F_GETFD) != -1 || g_kept_stderr < 0) {
    write_all(2, text);
  } else {
    write_all(g_kept_stderr, text);
  }
}

bool is_child_of_dhat_run() noexcept {
  const char* main_pid = std::getenv("DHAT_RUN_MAIN_PID");
  std::uint64_t pid = 0;
  return main_pid != nullptr && format::parse_decimal(main_pid, 1, ~std::uint64_t{0} >> 1, &pid) &&
         static_cast<pid_t>(pid) != getpid();
}

bool is_unprofiled_child_of_dhat_run() noexcept {
  const char* no_children = std::getenv("DHAT_RUN_NO_CHILDREN");
  return no_children != nullptr && *no_children != '\0' && is_child_of_dhat_run();
}

bool dhat_run_merges() noexcept {
  const char* merge = std::getenv("DHAT_RUN_MERGE");
  return merge != nullptr && *merge != '\0';
}

void note_child_profile(const std::string& path) noexcept {
  const char* file = ledger();
  if (file == nullptr) {
    return;
  }
  // O_APPEND, one write per line: lines of processes ending together never interleave. The
  // first child creates it (only for its user; never through a link someone else put there).
  const int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    write_all(fd, path + "\n");
    close(fd);
  }
}

std::string children_line() {
  const char* file = ledger();
  if (file == nullptr || is_child_of_dhat_run()) {
    return "";
  }
  std::string lines;
  const int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    char chunk[4096];
    for (ssize_t n = 0; (n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR);) {
      if (n > 0) {
        lines.append(chunk, static_cast<std::size_t>(n));
      }
    }
    close(fd);
  }
  unlink(file);
  std::size_t count = 0;
  std::string first;
  for (std::size_t at = 0; at < lines.size();) {
    const std::size_t end = lines.find('\n', at);
    if (end == std::string::npos) {
      break;
    }
    if (count++ == 0) {
      first = lines.substr(at, end - at);
    }
    at = end + 1;
  }
  if (count == 0) {
    return "";
  }
  return "dhat: " + format::with_commas(count) + (count == 1 ? " process" : " processes") +
         " started by the program wrote a profile too (the first: " + first + ")\n";
}

}  // namespace dhat::runtime
