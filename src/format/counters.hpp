// The nine numbers a DHAT file keeps per program point, and their JSON keys, written down once.
//
// Contract: `kCounterFields` lists every per-program-point counter in the order the stock
// dh_view expects them (tb tbk tl mb mbk gb gbk eb ebk, then dhat-cpp's tmpbk, then fs). The profiler's writer,
// dhat-view's reader and the tests' reader all walk this one list, so a key is spelled in one place. Fields marked
// `lifetimes` exist only when the file records block lifetimes (`bklt` true): an ad hoc profile has tb and tbk only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dhat::format {

struct PpTotals {
  std::uint64_t tb = 0;   // total bytes allocated here
  std::uint64_t tbk = 0;  // total blocks allocated here
  std::uint64_t tl = 0;   // total lifetime of those blocks (blocks live at t-end count up to it)
  std::uint64_t mb = 0;   // this program point's own peak of live bytes
  std::uint64_t mbk = 0;  // its live blocks at that peak
  std::uint64_t gb = 0;   // live bytes at the global peak (t-gmax)
  std::uint64_t gbk = 0;  // live blocks at t-gmax
  std::uint64_t eb = 0;   // live bytes at t-end
  std::uint64_t ebk = 0;  // live blocks at t-end
  // dhat-cpp's own field (the stock viewer ignores it; other tools' files lack it): blocks freed
  // by the thread that allocated them before that thread allocated anything else.
  std::uint64_t tmpbk = 0;
};

struct CounterField {
  const char* key;
  std::uint64_t PpTotals::*member;
  bool lifetimes;  // present only with block lifetimes (bklt)
  bool extension;  // dhat-cpp's own: written by dhat-cpp, optional when read
};

inline constexpr CounterField kCounterFields[] = {
    {"tb", &PpTotals::tb, false, false},  {"tbk", &PpTotals::tbk, false, false},
    {"tl", &PpTotals::tl, true, false},   {"mb", &PpTotals::mb, true, false},
    {"mbk", &PpTotals::mbk, true, false}, {"gb", &PpTotals::gb, true, false},
    {"gbk", &PpTotals::gbk, true, false}, {"eb", &PpTotals::eb, true, false},
    {"ebk", &PpTotals::ebk, true, false}, {"tmpbk", &PpTotals::tmpbk, true, true},
};
inline constexpr std::size_t kCounterCount = sizeof(kCounterFields) / sizeof(kCounterFields[0]);
static_assert(kCounterCount * sizeof(std::uint64_t) == sizeof(PpTotals), "every counter has its field");

// Adds every counter of `more` to `into` (merging program points; see report/program_points.cpp
// for what that means for the peaks).
inline void add_counters(PpTotals& into, const PpTotals& more) noexcept {
  for (const CounterField& field : kCounterFields) {
    into.*field.member += more.*field.member;
  }
}

}  // namespace dhat::format
