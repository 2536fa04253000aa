// Frame text: what the profiler writes, parsed back exactly, and the frames other DHAT writers
// write (Valgrind's, dhat-rs's) read the same way.
#include <gtest/gtest.h>

#include <string>

#include "format/frame_text.hpp"

using dhat::format::format_frame;
using dhat::format::Frame;
using dhat::format::parse_frame;
using dhat::format::without_address;

namespace {

void expect_round_trip(const std::string& text) { EXPECT_EQ(format_frame(parse_frame(text)), text); }

TEST(FrameText, WritesValgrindsShape) {
  EXPECT_EQ(format_frame(Frame{0x4C2DB8F, "main", "a.c", 123, "/bin/prog"}), "0x4C2DB8F: main (a.c:123)");
  EXPECT_EQ(format_frame(Frame{0x10, "memcpy", "", 0, "/lib/libc.so.6"}), "0x10: memcpy (in /lib/libc.so.6)");
  EXPECT_EQ(format_frame(Frame{0x10, "", "", 0, ""}), "0x10: ???");
}

TEST(FrameText, ParsesFileLineAndObject) {
  const Frame line = parse_frame("0x4C2DB8F: std::vector<int>::push_back(int const&) (stl_vector.h:1198)");
  EXPECT_TRUE(line.has_address);
  EXPECT_EQ(line.address, 0x4C2DB8FU);
  EXPECT_EQ(line.function, "std::vector<int>::push_back(int const&)");
  EXPECT_EQ(line.file, "stl_vector.h");
  EXPECT_EQ(line.line, 1198U);
  EXPECT_EQ(line.object, "");
  const Frame object = parse_frame("0x48E2A3F: operator new(unsigned long) (in /usr/lib/libstdc++.so.6.0.30)");
  EXPECT_EQ(object.function, "operator new(unsigned long)");
  EXPECT_EQ(object.object, "/usr/lib/libstdc++.so.6.0.30");
  EXPECT_EQ(object.file, "");
  const Frame unknown = parse_frame("0x0: ??? (no stack could be captured)");
  EXPECT_EQ(unknown.function, "??? (no stack could be captured)");  // not a location
  EXPECT_EQ(parse_frame("0x1: ???").function, "");
}

TEST(FrameText, FunctionNamesWithParenthesesKeepThem) {
  // A " (" inside the name, and a name ending in ")" without a location.
  const Frame lambda = parse_frame("0x5: std::function<void ()>::operator()() const (std_function.h:590)");
  EXPECT_EQ(lambda.function, "std::function<void ()>::operator()() const");
  EXPECT_EQ(lambda.line, 590U);
  const Frame bare = parse_frame("0x5: std::function<void ()>::operator()()");
  EXPECT_EQ(bare.function, "std::function<void ()>::operator()()");
  EXPECT_EQ(bare.file, "");
}

TEST(FrameText, DhatRsColumnsAndTextsWithoutAddress) {
  const Frame rust = parse_frame("0x55D4A1B2C5E6: parser::buffer::Buffer::new (src/buffer.rs:7:20)");
  EXPECT_EQ(rust.function, "parser::buffer::Buffer::new");
  EXPECT_EQ(rust.file, "src/buffer.rs");
  EXPECT_EQ(rust.line, 7U);
  EXPECT_EQ(rust.column, 20U);
  const Frame root = parse_frame("[root]");
  EXPECT_FALSE(root.has_address);
  EXPECT_EQ(root.function, "[root]");
}

TEST(FrameText, RoundTripsEveryWritersFrames) {
  expect_round_trip("0x4C2DB8F: main (a.c:123)");
  expect_round_trip("0x10: memcpy (in /lib/x86_64-linux-gnu/libc.so.6)");
  expect_round_trip("0x55D4A1B2C5E6: parser::buffer::Buffer::new (src/buffer.rs:7:20)");
  expect_round_trip("0x5: std::function<void ()>::operator()() const (std_function.h:590)");
  expect_round_trip("0x1: ???");
  expect_round_trip("[root]");
}

TEST(FrameText, WithoutAddressIsWhatMatchesAcrossRuns) {
  EXPECT_EQ(without_address("0x4C2DB8F: f (a.c:3)"), "f (a.c:3)");
  EXPECT_EQ(without_address("0xABC: g (in /lib/x.so)"), "g (in /lib/x.so)");
  EXPECT_EQ(without_address("[root]"), "[root]");
  EXPECT_EQ(without_address("0x12"), "0x12");
}

}  // namespace
