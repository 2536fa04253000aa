#include "core/cfi_unwinder.hpp"

#include <atomic>
#include <cstring>

namespace {

// libgcc's FDE lookup (exported by libgcc_s and libgcc_eh since GCC 3.0): finds the FDE of a pc
// through the loader's lock-free _dl_find_object on glibc 2.35+, and gives the function start.
struct DwarfEhBases {
  void* tbase;
  void* dbase;
  void* func;
};
extern "C" const void* _Unwind_Find_FDE(void* pc, DwarfEhBases* bases);  // NOLINT(bugprone-reserved-identifier)

constexpr int kRegRbp = 6;
constexpr int kRegRsp = 7;
constexpr int kRegReturnAddress = 16;

struct Reader {
  const std::uint8_t* p;
  const std::uint8_t* end;

  bool more() const { return p < end; }
  std::uint8_t u8() { return p < end ? *p++ : 0; }
  std::uint64_t uleb() {
    std::uint64_t value = 0;
    int shift = 0;
    while (p < end) {
      const std::uint8_t byte = *p++;
      if (shift < 64) {
        value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      }
      shift += 7;
      if ((byte & 0x80) == 0) {
        break;
      }
    }
    return value;
  }
  std::int64_t sleb() {
    std::int64_t value = 0;
    int shift = 0;
    std::uint8_t byte = 0;
    while (p < end) {
      byte = *p++;
      if (shift < 64) {
        value |= static_cast<std::int64_t>(static_cast<std::uint64_t>(byte & 0x7f) << shift);
      }
      shift += 7;
      if ((byte & 0x80) == 0) {
        break;
      }
    }
    if (shift < 64 && (byte & 0x40) != 0) {
      value |= -(static_cast<std::int64_t>(1) << shift);
    }
    return value;
  }
  template <typename T>
  T fixed() {
    T value{};
    if (p + sizeof(T) <= end) {
      std::memcpy(&value, p, sizeof(T));
    }
    p += sizeof(T);
    return value;
  }
  // Skips a pointer of DWARF EH encoding `encoding`; false for encodings this walker never needs.
  bool skip_encoded(std::uint8_t encoding) {
    if (encoding == 0xff) {  // DW_EH_PE_omit
      return true;
    }
    if ((encoding & 0x70) == 0x50) {  // DW_EH_PE_aligned
      return false;
    }
    switch (encoding & 0x0f) {
      case 0x00:
        p += 8;
        return true;  // absptr
      case 0x01:
        uleb();
        return true;  // uleb128
      case 0x02:
      case 0x0a:
        p += 2;
        return true;  // (s)data2
      case 0x03:
      case 0x0b:
        p += 4;
        return true;  // (s)data4
      case 0x04:
      case 0x0c:
        p += 8;
        return true;  // (s)data8
      case 0x09:
        sleb();
        return true;  // sleb128
      default:
        return false;
    }
  }
};

// The unwinding state the CFA program builds: only what UnwindRule needs.
struct CfaState {
  int cfa_reg = kRegRsp;
  std::int64_t cfa_offset = 8;
  bool rbp_saved = false;
  std::int64_t rbp_offset = 0;
  bool return_address_ok = true;  // saved at CFA - 8, as the x86-64 ABI's CIEs say
  bool return_address_undefined = false;
  bool unsupported = false;
};

// Runs CFA instructions [p, end) while the location is <= target. Returns false on an
// instruction outside the subset compilers emit for ordinary code.
bool run_cfa_program(Reader code, std::uintptr_t start_loc, std::uintptr_t target, std::uint64_t code_align,
                     std::int64_t data_align, CfaState& state, const CfaState& initial) {
  constexpr int kMaxRemembered = 8;
  CfaState remembered[kMaxRemembered];
  int depth = 0;
  std::uintptr_t loc = start_loc;
  auto set_register = [&](std::uint64_t reg, bool saved, std::int64_t offset) {
    if (reg == static_cast<std::uint64_t>(kRegRbp)) {
      state.rbp_saved = saved;
      state.rbp_offset = offset;
    } else if (reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
      state.return_address_ok = saved && offset == -8;
      state.return_address_undefined = false;
    }
  };
  while (code.more()) {
    const std::uint8_t op = code.u8();
    const std::uint8_t high = op & 0xc0;
    const std::uint8_t low = op & 0x3f;
    std::uintptr_t advance = 0;
    if (high == 0x40) {  // DW_CFA_advance_loc
      advance = low * code_align;
    } else if (high == 0x80) {  // DW_CFA_offset
      set_register(low, true, static_cast<std::int64_t>(code.uleb()) * data_align);
      continue;
    } else if (high == 0xc0) {  // DW_CFA_restore
      if (low == kRegRbp) {
        state.rbp_saved = initial.rbp_saved;
        state.rbp_offset = initial.rbp_offset;
      }
      continue;
    } else {
      switch (op) {
        case 0x00:
          continue;  // nop
        case 0x02:
          advance = code.u8() * code_align;
          break;  // advance_loc1
        case 0x03:
          advance = code.fixed<std::uint16_t>() * code_align;
          break;  // advance_loc2
        case 0x04:
          advance = code.fixed<std::uint32_t>() * code_align;
          break;      // advance_loc4
        case 0x05: {  // offset_extended
          const std::uint64_t reg = code.uleb();
          set_register(reg, true, static_cast<std::int64_t>(code.uleb()) * data_align);
          continue;
        }
        case 0x06: {  // restore_extended
          if (code.uleb() == static_cast<std::uint64_t>(kRegRbp)) {
            state.rbp_saved = initial.rbp_saved;
            state.rbp_offset = initial.rbp_offset;
          }
          continue;
        }
        case 0x07:    // undefined
        case 0x08: {  // same_value
          const std::uint64_t reg = code.uleb();
          if (reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
            state.return_address_undefined = op == 0x07;  // DW_CFA_undefined: the outermost frame
            state.return_address_ok = false;
          } else if (reg == static_cast<std::uint64_t>(kRegRbp)) {
            state.rbp_saved = false;
          }
          continue;
        }
        case 0x09: {  // register: a register saved in another register
          const std::uint64_t reg = code.uleb();
          code.uleb();
          if (reg == static_cast<std::uint64_t>(kRegRbp) || reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
            return false;
          }
          continue;
        }
        case 0x0a:  // remember_state
          if (depth == kMaxRemembered) {
            return false;
          }
          remembered[depth++] = state;
          continue;
        case 0x0b:  // restore_state
          if (depth == 0) {
            return false;
          }
          state = remembered[--depth];
          continue;
        case 0x0c:  // def_cfa
          state.cfa_reg = static_cast<int>(code.uleb());
          state.cfa_offset = static_cast<std::int64_t>(code.uleb());
          continue;
        case 0x0d:  // def_cfa_register
          state.cfa_reg = static_cast<int>(code.uleb());
          continue;
        case 0x0e:  // def_cfa_offset
          state.cfa_offset = static_cast<std::int64_t>(code.uleb());
          continue;
        case 0x11: {  // offset_extended_sf
          const std::uint64_t reg = code.uleb();
          set_register(reg, true, code.sleb() * data_align);
          continue;
        }
        case 0x12:  // def_cfa_sf
          state.cfa_reg = static_cast<int>(code.uleb());
          state.cfa_offset = code.sleb() * data_align;
          continue;
        case 0x13:  // def_cfa_offset_sf
          state.cfa_offset = code.sleb() * data_align;
          continue;
        case 0x2e:  // GNU_args_size
          code.uleb();
          continue;
        case 0x10:    // expression
        case 0x16: {  // val_expression
          const std::uint64_t reg = code.uleb();
          const std::uint64_t length = code.uleb();
          code.p += length;
          if (reg == static_cast<std::uint64_t>(kRegRbp) || reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
            return false;
          }
          continue;
        }
        default:  // def_cfa_expression, set_loc, val_offset, ...: not modelled
          return false;
      }
    }
    loc += advance;
    if (loc > target) {
      return true;
    }
  }
  return true;
}

dhat::core::UnwindRule compute_rule(std::uintptr_t pc) {
  dhat::core::UnwindRule rule;
  DwarfEhBases bases{};
  const auto* fde = static_cast<const std::uint8_t*>(_Unwind_Find_FDE(reinterpret_cast<void*>(pc), &bases));
  if (fde == nullptr) {
    rule.no_fde = true;
    return rule;
  }
  // FDE: length, CIE pointer (relative to its own field), pc_begin, pc_range, [augmentation], code.
  std::uint32_t fde_length = 0;
  std::memcpy(&fde_length, fde, 4);
  if (fde_length == 0xffffffffU) {
    return rule;  // 64-bit DWARF: not produced for .eh_frame on x86-64
  }
  const std::uint8_t* fde_end = fde + 4 + fde_length;
  std::int32_t cie_delta = 0;
  std::memcpy(&cie_delta, fde + 4, 4);
  const std::uint8_t* cie = fde + 4 - cie_delta;

  std::uint32_t cie_length = 0;
  std::memcpy(&cie_length, cie, 4);
  Reader c{cie + 8, cie + 4 + cie_length};  // past length and CIE id
  const std::uint8_t version = c.u8();
  const char* augmentation = reinterpret_cast<const char*>(c.p);
  c.p += std::strlen(augmentation) + 1;
  if (augmentation[0] != '\0' && augmentation[0] != 'z') {
    return rule;
  }
  const std::uint64_t code_align = c.uleb();
  const std::int64_t data_align = c.sleb();
  const std::uint64_t return_register = version == 1 ? c.u8() : c.uleb();
  if (return_register != static_cast<std::uint64_t>(kRegReturnAddress)) {
    return rule;
  }
  std::uint8_t fde_encoding = 0;
  if (augmentation[0] == 'z') {
    const std::uint64_t aug_length = c.uleb();
    const std::uint8_t* aug_end = c.p + aug_length;
    for (const char* a = augmentation + 1; *a != '\0'; ++a) {
      if (*a == 'R') {
        fde_encoding = c.u8();
      } else if (*a == 'P') {
        if (!c.skip_encoded(c.u8())) {
          return rule;
        }
      } else if (*a == 'L') {
        c.u8();
      } else {
        return rule;  // 'S' (signal frames) and anything unknown: let libgcc handle it
      }
    }
    c.p = aug_end;
  }

  Reader f{fde + 8, fde_end};
  if (!f.skip_encoded(fde_encoding) || !f.skip_encoded(fde_encoding & 0x0f)) {
    return rule;
  }
  if (augmentation[0] == 'z') {
    f.p += f.uleb();
  }

  CfaState initial;
  const auto func = reinterpret_cast<std::uintptr_t>(bases.func);
  if (!run_cfa_program(c, func, ~static_cast<std::uintptr_t>(0), code_align, data_align, initial, initial)) {
    return rule;
  }
  CfaState state = initial;
  if (!run_cfa_program(f, func, pc, code_align, data_align, state, initial)) {
    return rule;
  }
  if (state.return_address_undefined) {
    rule.valid = true;
    rule.outermost = true;
    return rule;
  }
  if ((state.cfa_reg != kRegRsp && state.cfa_reg != kRegRbp) || !state.return_address_ok) {
    return rule;
  }
  rule.valid = true;
  rule.cfa_from_rbp = state.cfa_reg == kRegRbp;
  rule.cfa_offset = static_cast<std::int32_t>(state.cfa_offset);
  rule.rbp_saved = state.rbp_saved;
  rule.rbp_offset = static_cast<std::int32_t>(state.rbp_offset);
  return rule;
}

// The rule cache: a fixed open table, each slot a (pc, packed rule) pair of atomics. A reader
// re-reads the key after the value, so a slot being rewritten is a miss, never a wrong rule.
constexpr std::size_t kCacheSlots = 1 << 16;
struct CacheSlot {
  std::atomic<std::uintptr_t> pc{0};
  std::atomic<std::uint64_t> packed{0};
};
CacheSlot g_cache[kCacheSlots];

std::uint64_t pack(const dhat::core::UnwindRule& r) {
  return (r.valid ? 1ULL : 0ULL) | (r.cfa_from_rbp ? 2ULL : 0ULL) | (r.rbp_saved ? 4ULL : 0ULL) |
         (r.outermost ? 8ULL : 0ULL) | (r.no_fde ? 16ULL : 0ULL) |
         (static_cast<std::uint64_t>(static_cast<std::uint16_t>(static_cast<std::int16_t>(r.rbp_offset))) << 8) |
         (static_cast<std::uint64_t>(static_cast<std::uint32_t>(r.cfa_offset)) << 32);
}

// The packed rule for the code at `pc`.

std::uint64_t cached_rule(std::uintptr_t pc) {
  CacheSlot& slot = g_cache[((pc * 0x9E3779B97F4A7C15ULL) >> 48) & (kCacheSlots - 1)];
  if (slot.pc.load(std::memory_order_acquire) == pc) {
    const std::uint64_t packed = slot.packed.load(std::memory_order_acquire);
    if (slot.pc.load(std::memory_order_acquire) == pc) {
      return packed;
    }
  }
  const dhat::core::UnwindRule rule = compute_rule(pc);
  const std::uint64_t packed = pack(rule);
  const bool fits = rule.rbp_offset >= -32768 && rule.rbp_offset <= 32767;
  if (fits) {
    slot.pc.store(0, std::memory_order_release);
    slot.packed.store(packed, std::memory_order_release);
    slot.pc.store(pc, std::memory_order_release);
  }
  return fits ? packed : 0;  // an rbp offset that does not fit: an unmodelled rule (invalid)
}

// Packed-rule fields, read without unpacking on the walk's hot loop.
constexpr bool rule_valid(std::uint64_t r) { return (r & 1) != 0; }
constexpr bool rule_ends_stack(std::uint64_t r) { return (r & (8 | 16)) != 0; }  // outermost or no FDE
constexpr bool rule_cfa_from_rbp(std::uint64_t r) { return (r & 2) != 0; }
constexpr bool rule_rbp_saved(std::uint64_t r) { return (r & 4) != 0; }
constexpr std::intptr_t rule_rbp_offset(std::uint64_t r) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(r >> 8));
}
constexpr std::intptr_t rule_cfa_offset(std::uint64_t r) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(r >> 32));
}

// One step up the stack with a valid rule: false if the result makes no sense.
inline bool step(std::uint64_t rule, dhat::core::CallerFrame& regs) {
  const std::uintptr_t cfa = (rule_cfa_from_rbp(rule) ? regs.rbp : regs.rsp) + rule_cfa_offset(rule);
  if (cfa <= regs.rsp) {
    return false;  // a caller's frame is always above its callee's: something is off
  }
  regs.ip = *reinterpret_cast<const std::uintptr_t*>(cfa - 8);
  if (rule_rbp_saved(rule)) {
    regs.rbp = *reinterpret_cast<const std::uintptr_t*>(cfa + rule_rbp_offset(rule));
  }
  regs.rsp = cfa;
  return true;
}

// The walk shared by both entry points. Frames for which `is_profiler_frame` is true are skipped
// while they lead the stack. Returns false when a frame needs libgcc.
template <typename SkipFrame>
bool walk(dhat::core::CallerFrame regs, dhat::core::RawStack& out, std::size_t max_frames, SkipFrame skip,
          dhat::core::WalkTrace* trace) {
  out.depth = 0;
  if (trace != nullptr) {
    trace->ends_with_zero = false;
  }
  bool trimming = true;
  for (int guard = 0; guard < 1024 && out.depth < max_frames; ++guard) {
    if (regs.ip == 0) {
      if (trace != nullptr) {
        trace->ends_with_zero = true;
      }
      return true;
    }
    const std::uint64_t rule = cached_rule(regs.ip - 1);
    if (trimming && !skip(regs.ip)) {
      trimming = false;
    }
    if (!trimming) {
      if (trace != nullptr) {
        trace->rules[out.depth] = rule;
      }
      out.frames[out.depth++] = regs.ip;
      if (out.depth >= max_frames) {
        return true;
      }
    }
    if (rule_ends_stack(rule)) {
      return true;  // _start or clone3 (undefined return address), or code without an FDE
    }
    if (!rule_valid(rule) || !step(rule, regs)) {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace dhat::core {

UnwindRule explain_rule(std::uintptr_t lookup_pc) noexcept { return compute_rule(lookup_pc); }

DHAT_CAPTURE_PATH bool cfi_capture(RawStack& out, std::size_t max_frames,
                                   bool (*is_profiler_frame)(std::uintptr_t)) noexcept {
  // This function keeps a frame pointer (it takes its own frame address), so its caller's
  // registers are known exactly.
  return walk(caller_frame_of(__builtin_frame_address(0)), out, max_frames, is_profiler_frame, nullptr);
}

bool cfi_walk(const CallerFrame& start, RawStack& out, std::size_t max_frames, WalkTrace* trace) noexcept {
  return walk(
      start, out, max_frames, [](std::uintptr_t) { return false; }, trace);
}

bool cfi_same_walk(const CallerFrame& start, const std::uintptr_t* frames, const std::uint64_t* rules,
                   std::uint32_t depth, bool ends_with_zero, std::size_t max_frames) noexcept {
  CallerFrame regs = start;
  for (std::uint32_t i = 0; i < depth; ++i) {
    if (regs.ip != frames[i]) {
      return false;
    }
    // The same return address has the same rule, so the remembered one applies.
    const std::uint64_t rule = rules[i];
    if (i + 1 == depth && (depth >= max_frames || rule_ends_stack(rule))) {
      return true;
    }
    if (!rule_valid(rule) || !step(rule, regs)) {
      return false;
    }
  }
  return ends_with_zero && regs.ip == 0;
}

}  // namespace dhat::core
