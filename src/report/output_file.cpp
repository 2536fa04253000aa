#include "report/output_file.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace dhat::report {

namespace {

// The descriptor held in reserve (-1: none).
std::atomic<int> g_reserved_descriptor{-1};

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// How the path the user named is to be written.
struct Target {
  enum class Kind { replace, in_place, refuse } kind = Kind::refuse;
  std::string path;    // the file to replace or open
  std::string reason;  // for refuse
};

Target refuse(int error) {
  Target target;
  target.reason = std::strerror(error);
  return target;
}

Target target_of(const std::string& named) {
  std::string current = named;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat status {};
    if (lstat(current.c_str(), &status) != 0) {
      if (errno == ENOENT) {
        return Target{Target::Kind::replace, current, ""};  // a new file (its directory is checked by open)
      }
      return refuse(errno);
    }
    if (S_ISREG(status.st_mode)) {
      return Target{Target::Kind::replace, current, ""};
    }
    if (S_ISDIR(status.st_mode)) {
      return refuse(EISDIR);
    }
    if (!S_ISLNK(status.st_mode)) {
      return Target{Target::Kind::in_place, current, ""};  // a device, a FIFO, a socket
    }
    // /dev/stdout and its kind are links into /proc's descriptors: the descriptor is the
    // target, whatever file it happens to be open on.
    if (starts_with(current, "/dev/") || starts_with(current, "/proc/")) {
      return Target{Target::Kind::in_place, current, ""};
    }
    char link[PATH_MAX];
    const ssize_t length = readlink(current.c_str(), link, sizeof link - 1);
    if (length < 0) {
      return refuse(errno);
    }
    link[length] = '\0';
    if (link[0] == '/') {
      current = link;
    } else {
      const std::size_t slash = current.rfind('/');
      current = (slash == std::string::npos ? std::string() : current.substr(0, slash + 1)) + link;
    }
  }
  return refuse(ELOOP);
}

// Writes what `produce` hands over to `fd`; "" or the first failure (later pieces are dropped).
std::string stream_to(int fd, const std::function<void(const TextSink&)>& produce) {
  std::string failure;
  const TextSink to_file = [&](const std::string& piece) {
    std::size_t written = 0;
    while (failure.empty() && written < piece.size()) {
      const ssize_t n = write(fd, piece.data() + written, piece.size() - written);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        failure = n < 0 ? std::strerror(errno) : "short write";
        break;
      }
      written += static_cast<std::size_t>(n);
    }
  };
  produce(to_file);
  return failure;
}

std::string write_in_place(const std::string& path, const std::function<void(const TextSink&)>& produce) {
  // Non-blocking open: a FIFO without a reader fails at once (ENXIO) instead of waiting forever.
  const int fd = open_using_reserve(path.c_str(), O_WRONLY | O_APPEND | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) {
    return errno == ENXIO ? std::string("nothing is reading from it (a FIFO needs a reader)") : std::strerror(errno);
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) {
    static_cast<void>(fcntl(fd, F_SETFL, flags & ~O_NONBLOCK));  // the writes themselves may wait
  }
  std::string failure;
  try {
    failure = stream_to(fd, produce);
  } catch (...) {
    static_cast<void>(close_using_reserve(fd));
    throw;
  }
  if (close_using_reserve(fd) != 0 && failure.empty()) {
    failure = std::strerror(errno);
  }
  return failure;
}

std::string write_replacing(const std::string& path, const std::function<void(const TextSink&)>& produce) {
  // A temporary name of this write's own: two threads writing snapshots to one path must not
  // share a file (one would truncate the other's half-written text and rename it into place,
  // and the second rename would find nothing). O_EXCL: never write into a file we did not make.
  static std::atomic<std::uint64_t> writes{0};
  std::string temporary;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 8; ++attempt) {
    temporary = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(writes.fetch_add(1));
    fd = open_using_reserve(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
      break;
    }
  }
  if (fd < 0) {
    return std::strerror(errno);
  }
  std::string failure;
  try {
    failure = stream_to(fd, produce);
  } catch (...) {
    static_cast<void>(close_using_reserve(fd));
    unlink(temporary.c_str());
    throw;
  }
  if (close_using_reserve(fd) != 0 && failure.empty()) {
    failure = std::strerror(errno);
  }
  if (failure.empty() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    failure = std::strerror(errno);
  }
  if (!failure.empty()) {
    unlink(temporary.c_str());
  }
  return failure;
}

}  // namespace

std::string write_output_file(const std::string& path, const std::function<void(const TextSink&)>& produce) {
  const Target target = target_of(path);
  switch (target.kind) {
    case Target::Kind::replace:
      return write_replacing(target.path, produce);
    case Target::Kind::in_place:
      return write_in_place(target.path, produce);
    case Target::Kind::refuse:
      break;
  }
  return target.reason;
}

std::string write_output_file(const std::string& path, const std::string& contents) {
  return write_output_file(path, [&contents](const TextSink& sink) { sink(contents); });
}

int open_using_reserve(const char* path, int flags, unsigned mode) noexcept {
  int fd = open(path, flags, static_cast<mode_t>(mode));
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
    const int reserved = g_reserved_descriptor.exchange(-1);
    if (reserved >= 0) {
      close(reserved);
      fd = open(path, flags, static_cast<mode_t>(mode));
    }
  }
  return fd;
}

int close_using_reserve(int fd) noexcept {
  const int result = close(fd);
  const int saved = errno;
  static_cast<void>(reserve_output_descriptor());  // taken again if it was given up
  errno = saved;
  return result;
}

DescriptorHeadroom::DescriptorHeadroom() noexcept {
  const int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (probe >= 0) {
    close(probe);
    return;
  }
  if (errno != EMFILE) {
    return;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    old_soft_limit_ = limit.rlim_cur;
    constexpr rlim_t kHeadroom = 64;  // the modules the symbolizer opens, and the output
    limit.rlim_cur = limit.rlim_max - limit.rlim_cur > kHeadroom ? limit.rlim_cur + kHeadroom : limit.rlim_max;
    raised_ = setrlimit(RLIMIT_NOFILE, &limit) == 0;
  }
  exhausted_ = !raised_;
}

DescriptorHeadroom::~DescriptorHeadroom() {
  if (raised_) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      limit.rlim_cur = static_cast<rlim_t>(old_soft_limit_);
      setrlimit(RLIMIT_NOFILE, &limit);
    }
  }
}

bool reserve_output_descriptor() noexcept {
  if (g_reserved_descriptor.load() >= 0) {
    return true;
  }
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  int expected = -1;
  if (!g_reserved_descriptor.compare_exchange_strong(expected, fd)) {
    close(fd);  // another thread reserved one meanwhile
  }
  return true;
}

std::string current_directory() {
  char directory[PATH_MAX];
  return getcwd(directory, sizeof directory) == nullptr ? std::string() : std::string(directory);
}

std::string absolute_path(const std::string& path) {
  if (path.empty() || path[0] == '/') {
    return path;
  }
  const std::string directory = current_directory();
  if (directory.empty()) {
    return path;
  }
  return (directory == "/" ? std::string() : directory) + "/" + path;
}

}  // namespace dhat::report
