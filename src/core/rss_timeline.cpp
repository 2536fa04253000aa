#include "core/rss_timeline.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace dhat::core {

std::uint64_t read_resident_bytes() noexcept {
  const int saved_errno = errno;  // the program's errno is not ours to change
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errno = saved_errno;
    return 0;
  }
  // "size resident shared text lib data dt", in pages: a few dozen bytes.
  char text[128];
  ssize_t length = -1;
  do {
    length = read(fd, text, sizeof text - 1);
  } while (length < 0 && errno == EINTR);
  close(fd);
  errno = saved_errno;
  if (length <= 0) {
    return 0;
  }
  text[length] = '\0';
  const char* p = text;
  while (*p != '\0' && *p != ' ') {  // skip the total size
    ++p;
  }
  if (*p != ' ') {
    return 0;
  }
  ++p;
  std::uint64_t pages = 0;
  for (; *p >= '0' && *p <= '9'; ++p) {
    pages = pages * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  return pages * static_cast<std::uint64_t>(getpagesize());
}

std::uint64_t read_peak_resident_bytes() noexcept {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0 || usage.ru_maxrss < 0) {
    return 0;
  }
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux counts it in KiB
}

void RssTimeline::start(std::uint64_t now_us, bool enabled) noexcept {
  levels_.clear(Timeline::Gaps::zero);
  next_us_ = kNever;
  last_us_ = 0;
  peak_bytes_ = 0;
  readings_ = 0;
  available_ = false;
  if (enabled) {
    peak_at_start_ = read_peak_resident_bytes();
    sample(now_us);
  }
}

void RssTimeline::sample(std::uint64_t now_us) noexcept {
  const std::uint64_t bytes = read_resident_bytes();
  if (bytes == 0) {  // no /proc: stop trying, rather than pay for a failing open at every bucket
    next_us_ = kNever;
    return;
  }
  if (now_us < last_us_) {
    now_us = last_us_;
  }
  last_us_ = now_us;
  available_ = true;
  ++readings_;
  levels_.record(now_us, bytes);
  if (bytes > peak_bytes_) {
    peak_bytes_ = bytes;
  }
  // One reading per bucket at most: the buckets widen as the run grows, and so does the interval.
  const std::uint64_t interval = levels_.bucket_us() > kMinIntervalUs ? levels_.bucket_us() : kMinIntervalUs;
  next_us_ = now_us + interval;
}

void RssTimeline::finish(std::uint64_t now_us) noexcept {
  if (next_us_ == kNever && !available_) {
    return;
  }
  sample(now_us);
  next_us_ = kNever;
  const std::uint64_t peak = read_peak_resident_bytes();
  if (peak > peak_at_start_ && peak > peak_bytes_) {
    peak_bytes_ = peak;
  }
}

}  // namespace dhat::core
