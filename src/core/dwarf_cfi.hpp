// DWARF call-frame information (.eh_frame, the data C++ exceptions use): the CIE/FDE parser and
// the CFA program interpreter behind the cached-CFI walker (cfi_unwinder.hpp).
//
// Contract: `rule_for_pc` finds the FDE of `pc` in its object's .eh_frame_hdr index (through
// _dl_find_object: lock-free, never allocates, safe in a signal handler), or through libgcc's
// lookup where there is no index (a static program) or no object (frames a JIT registered);
// runs its CIE's and its own CFA instructions up to `pc`; and says how to get from that frame to
// its caller, in the subset of rules the walker models: the CFA is the stack pointer or the frame
// pointer plus an offset (rsp/rbp, sp/x29), the return address is saved at CFA + offset (x86-64:
// always CFA - 8; AArch64: where the function stored x30, maybe signed), the caller's frame
// pointer is saved at CFA + offset or unchanged. Anything else (a CFA expression, a register
// saved in another register, signal frames, unknown augmentations) gives an invalid rule, and the
// walker hands that stack to libgcc. Register numbers come from core/arch.hpp, opcodes from
// DWARF (<dwarf.h>).
#pragma once

#include <cstdint>

namespace dhat::core {

struct UnwindRule {
  bool valid = false;
  bool outermost = false;  // the return address is undefined: the stack ends here (_start, clone3)
  bool cfa_from_fp = false;
  std::int32_t cfa_offset = 0;
  bool fp_saved = false;
  std::int32_t fp_offset = 0;
  std::int32_t return_address_offset = 0;  // saved at CFA + this
  bool return_address_signed = false;      // AArch64 pointer authentication: strip before use
  bool no_fde = false;                     // no call-frame information at all: the walk ends (as libgcc's does)
};

// The rule for the code at `pc` (a return address - 1, or an exact pc).
UnwindRule rule_for_pc(std::uintptr_t pc) noexcept;

}  // namespace dhat::core
