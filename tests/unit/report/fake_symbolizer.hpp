// A symbolizer for report tests without a process to symbolize: addresses map to made-up
// functions; 0x30 is an inlined pair, 0x90 is main, 0x99 below it, 0xC0 a thread's entry.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "report/symbolizer.hpp"

namespace dhat_test {

using dhat::report::Frame;

class FakeSymbolizer final : public dhat::report::Symbolizer {
 public:
  std::vector<Frame> resolve(std::uintptr_t address) override {
    ++calls[address];
    if (address == 0x30) {
      return {Frame{0x2F, "inner", "a.cpp", 3, "prog"}, Frame{0x2F, "outer", "a.cpp", 30, "prog"}};
    }
    if (address == 0x90) {
      return {Frame{0x8F, "main", "main.cpp", 9, "prog"}};
    }
    if (address == 0x99) {
      return {Frame{0x98, "__libc_start_call_main", "", 0, "libc.so.6"}};
    }
    if (address == 0xC0) {
      return {Frame{0xBF, "start_thread", "", 0, "libc.so.6"}};
    }
    return {Frame{address - 1, "f" + std::to_string(address), "", 0, "/lib/x.so"}};
  }
  std::map<std::uintptr_t, int> calls;
};

}  // namespace dhat_test
