// A frame processor whose hot path allocates nothing once it is warm: its buffers are members,
// reused with clear(), so their capacity survives from frame to frame. The test
// (tests/integration/test_allocation_checks.cpp) proves it with DHAT_EXPECT_NO_ALLOCATIONS.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct Frame {
  std::vector<std::uint8_t> pixels;
  int width = 0;
};

inline std::uint64_t row_sum(const Frame& frame, std::size_t row_start) {
  std::uint64_t sum = 0;
  for (int x = 0; x < frame.width; ++x) {
    sum += frame.pixels[row_start + static_cast<std::size_t>(x)];
  }
  return sum;
}

inline std::uint64_t checksum_of(const std::vector<std::uint64_t>& row_sums) {
  std::uint64_t checksum = 0;
  for (std::uint64_t sum : row_sums) {
    checksum = checksum * 31 + sum;
  }
  return checksum;
}

class FrameProcessor {
 public:
  // Returns a checksum of the frame's row sums; allocation-free after the first call.
  std::uint64_t process(const Frame& frame) {
    row_sums_.clear();  // keeps its capacity: no allocation once warm
    for (std::size_t row = 0; row + static_cast<std::size_t>(frame.width) <= frame.pixels.size();
         row += static_cast<std::size_t>(frame.width)) {
      row_sums_.push_back(row_sum(frame, row));
    }
    label_.clear();
    label_ += "frame";
    return checksum_of(row_sums_);
  }

 private:
  std::vector<std::uint64_t> row_sums_;
  std::string label_;
};

// The same work written the obvious way: a fresh vector per frame allocates every time.
class NaiveFrameProcessor {
 public:
  __attribute__((noinline)) std::uint64_t process(const Frame& frame) {
    std::vector<std::uint64_t> row_sums;  // fresh every frame: grows from empty each time
    for (std::size_t row = 0; row + static_cast<std::size_t>(frame.width) <= frame.pixels.size();
         row += static_cast<std::size_t>(frame.width)) {
      row_sums.push_back(row_sum(frame, row));
    }
    return checksum_of(row_sums);
  }
};

inline Frame make_test_frame(int width, int height) {
  Frame frame;
  frame.width = width;
  frame.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  for (std::size_t i = 0; i < frame.pixels.size(); ++i) {
    frame.pixels[i] = static_cast<std::uint8_t>(i * 7);
  }
  return frame;
}
