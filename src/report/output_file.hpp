// Writing a profile (or any output) to the path the user named, the way that path asks for.
//
// Contract: `write_output_file` never replaces anything that is not a regular file:
//  - a new name or a regular file: the text goes to a temporary file of this write's own in the
//    same directory, renamed over the target at the end, so the target is never torn and an
//    existing file survives a failure;
//  - a symbolic link (outside /dev and /proc): followed to the file it names, which is then
//    written the same way (the link stays a link);
//  - anything else (a device such as /dev/full, a FIFO, /dev/stdout and the like, which are
//    links into /proc's descriptors): written in place, streamed, appended, never truncated. A
//    FIFO with no reader is an error at once, not a program hanging at exit;
//  - a directory: an error ("Is a directory").
// Returns "" on success, otherwise the reason. If the process has run out of file descriptors,
// one held in reserve (reserve_output_descriptor) is given up for the write and taken again.
#pragma once

#include <functional>
#include <string>

namespace dhat::report {

// Receives the text in order, a piece at a time.
using TextSink = std::function<void(const std::string& piece)>;

[[nodiscard]] std::string write_output_file(const std::string& path,
                                            const std::function<void(const TextSink&)>& produce);
[[nodiscard]] std::string write_output_file(const std::string& path, const std::string& contents);

// Holds one file descriptor (of /dev/null) in reserve, so that a program that exits with every
// descriptor in use still gets its profile. Idempotent; false if none could be had.
bool reserve_output_descriptor() noexcept;
// open(2) and close(2) for the profiler's own reads and writes: if the process has no descriptor
// left, the reserved one is given up for this file, and taken again when it is closed.
[[nodiscard]] int open_using_reserve(const char* path, int flags, unsigned mode = 0) noexcept;
int close_using_reserve(int fd) noexcept;

// For the time of a report: if the process has used every descriptor its soft limit allows,
// the limit is raised a little (when the hard limit leaves room), so that the symbolizer can
// open the program's modules; restored afterwards. `exhausted()`: none could be had even so
// (frames then stay addresses).
class DescriptorHeadroom {
 public:
  DescriptorHeadroom() noexcept;
  ~DescriptorHeadroom();
  DescriptorHeadroom(const DescriptorHeadroom&) = delete;
  DescriptorHeadroom& operator=(const DescriptorHeadroom&) = delete;
  bool exhausted() const noexcept { return exhausted_; }

 private:
  bool raised_ = false;
  bool exhausted_ = false;
  unsigned long long old_soft_limit_ = 0;
};

// The current directory ("" if it cannot be read), and `path` made absolute against it
// (unchanged if it is already absolute, or empty, or the directory cannot be read).
[[nodiscard]] std::string current_directory();
[[nodiscard]] std::string absolute_path(const std::string& path);

}  // namespace dhat::report
