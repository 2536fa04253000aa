// Processes frames and prints how much the hot loop allocated, measured with a dhat::Section.
#include <dhat/dhat.hpp>

#include <cstdio>

#include "frame_processor.hpp"

int main() {
  const Frame frame = make_test_frame(640, 480);
  FrameProcessor processor;
  NaiveFrameProcessor naive;
  std::uint64_t checksum = processor.process(frame) + naive.process(frame);  // warm up

  dhat::Section reused;
  for (int i = 0; i < 100; ++i) {
    checksum += processor.process(frame);
  }
  reused.stop();
  dhat::Section fresh;
  for (int i = 0; i < 100; ++i) {
    checksum += naive.process(frame);
  }
  fresh.stop();

  std::printf("reused buffers: %llu blocks, %llu bytes in 100 frames\n",
              static_cast<unsigned long long>(reused.process().blocks),
              static_cast<unsigned long long>(reused.process().bytes));
  std::printf("fresh buffers:  %llu blocks, %llu bytes in 100 frames (peak %llu live bytes)\n",
              static_cast<unsigned long long>(fresh.process().blocks),
              static_cast<unsigned long long>(fresh.process().bytes),
              static_cast<unsigned long long>(fresh.process().peak_live_bytes));
  return checksum == 0 ? 1 : 0;
}
