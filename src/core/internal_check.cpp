#include "core/internal_check.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace dhat::core {

namespace {

void write_text(const char* text) noexcept {
  std::size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = write(STDERR_FILENO, text, left);
    if (n <= 0) {
      return;
    }
    text += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void internal_check_failed(const char* condition, const char* file, int line) noexcept {
  char digits[16];
  int at = sizeof digits - 1;
  digits[at] = '\0';
  unsigned value = line < 0 ? 0U : static_cast<unsigned>(line);
  do {
    digits[--at] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && at > 0);
  write_text("dhat: internal check failed: ");
  write_text(file);
  write_text(":");
  write_text(digits + at);
  write_text(": ");
  write_text(condition);
  write_text("\n");
  std::abort();
}

}  // namespace dhat::core
