#include "core/dwarf_cfi.hpp"

#include <dwarf.h>

#include <cstring>

#include "core/arch.hpp"
#include "core/signals_blocked.hpp"

#include <dlfcn.h>
#include <link.h>

// libgcc's FDE lookup (exported by libgcc_s and libgcc_eh since GCC 3.0), for what the
// .eh_frame_hdr index cannot answer: a static program (GCC links it without the index and
// registers its frames instead) and frames a JIT registered.
struct DwarfEhBases {
  void* tbase;
  void* dbase;
  void* func;
};
extern "C" const void* _Unwind_Find_FDE(void* pc, DwarfEhBases* bases);  // NOLINT(bugprone-reserved-identifier)

namespace dhat::core {

namespace {

// The registers the walker models (core/arch.hpp).
constexpr int kRegFp = kDwarfFp;
constexpr int kRegSp = kDwarfSp;
constexpr int kRegReturnAddress = kDwarfReturnAddress;
// AArch64's DW_CFA_AARCH64_negate_ra_state: the return address is signed from here on (or no
// longer). The same opcode is SPARC's DW_CFA_GNU_window_save, meaningless elsewhere.
constexpr std::uint8_t kCfaNegateRaState = 0x2d;

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
  // Reads a value of the format `encoding & 0x0f` (no application bits: pc_range is one);
  // false for a format this walker never needs.
  bool read_value(std::uint8_t encoding, std::uint64_t* out) {
    switch (encoding & 0x0f) {
      case DW_EH_PE_absptr:
      case DW_EH_PE_udata8:
      case DW_EH_PE_sdata8:
        *out = fixed<std::uint64_t>();
        return true;
      case DW_EH_PE_uleb128:
        *out = uleb();
        return true;
      case DW_EH_PE_udata2:
        *out = fixed<std::uint16_t>();
        return true;
      case DW_EH_PE_sdata2:
        *out = static_cast<std::uint64_t>(static_cast<std::int64_t>(fixed<std::int16_t>()));
        return true;
      case DW_EH_PE_udata4:
        *out = fixed<std::uint32_t>();
        return true;
      case DW_EH_PE_sdata4:
        *out = static_cast<std::uint64_t>(static_cast<std::int64_t>(fixed<std::int32_t>()));
        return true;
      case DW_EH_PE_sleb128:
        *out = static_cast<std::uint64_t>(sleb());
        return true;
      default:
        return false;
    }
  }
  // Skips a pointer of DWARF EH encoding `encoding`; false for encodings this walker never needs.
  bool skip_encoded(std::uint8_t encoding) {
    if (encoding == DW_EH_PE_omit) {
      return true;
    }
    if ((encoding & 0x70) == DW_EH_PE_aligned) {  // the application bits (pcrel, datarel, ...)
      return false;
    }
    switch (encoding & 0x0f) {  // the value's format
      case DW_EH_PE_absptr:
        p += 8;
        return true;
      case DW_EH_PE_uleb128:
        uleb();
        return true;
      case DW_EH_PE_udata2:
      case DW_EH_PE_sdata2:
        p += 2;
        return true;
      case DW_EH_PE_udata4:
      case DW_EH_PE_sdata4:
        p += 4;
        return true;
      case DW_EH_PE_udata8:
      case DW_EH_PE_sdata8:
        p += 8;
        return true;
      case DW_EH_PE_sleb128:
        sleb();
        return true;
      default:
        return false;
    }
  }
};

// The unwinding state the CFA program builds: only what UnwindRule needs.
struct CfaState {
  int cfa_reg = kRegSp;
  std::int64_t cfa_offset = 0;
  bool fp_saved = false;
  std::int64_t fp_offset = 0;
  // x86-64's CIEs all say CFA - 8 (the call pushed it there); AArch64's say nothing (it is in x30).
  bool return_address_saved = kReturnAddressAtFixedOffset;
  std::int64_t return_address_offset = kReturnAddressFromCfa;
  bool return_address_undefined = false;
  bool return_address_signed = false;
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
    if (reg == static_cast<std::uint64_t>(kRegFp)) {
      state.fp_saved = saved;
      state.fp_offset = offset;
    } else if (reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
      state.return_address_saved = saved;
      state.return_address_offset = offset;
      state.return_address_undefined = false;
    }
  };
  // DW_CFA_restore: the register's rule as the CIE left it.
  auto restore_register = [&](std::uint64_t reg) {
    if (reg == static_cast<std::uint64_t>(kRegFp)) {
      state.fp_saved = initial.fp_saved;
      state.fp_offset = initial.fp_offset;
    } else if (reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
      state.return_address_saved = initial.return_address_saved;
      state.return_address_offset = initial.return_address_offset;
      state.return_address_undefined = initial.return_address_undefined;
    }
  };
  while (code.more()) {
    const std::uint8_t op = code.u8();
    const std::uint8_t high = op & 0xc0;
    const std::uint8_t low = op & 0x3f;
    std::uintptr_t advance = 0;
    if (high == DW_CFA_advance_loc) {
      advance = low * code_align;
    } else if (high == DW_CFA_offset) {
      set_register(low, true, static_cast<std::int64_t>(code.uleb()) * data_align);
      continue;
    } else if (high == DW_CFA_restore) {
      restore_register(low);
      continue;
    } else {
      switch (op) {
        case DW_CFA_nop:
          continue;
        case DW_CFA_advance_loc1:
          advance = code.u8() * code_align;
          break;
        case DW_CFA_advance_loc2:
          advance = code.fixed<std::uint16_t>() * code_align;
          break;
        case DW_CFA_advance_loc4:
          advance = code.fixed<std::uint32_t>() * code_align;
          break;
        case DW_CFA_offset_extended: {
          const std::uint64_t reg = code.uleb();
          set_register(reg, true, static_cast<std::int64_t>(code.uleb()) * data_align);
          continue;
        }
        case DW_CFA_restore_extended:
          restore_register(code.uleb());
          continue;
        case DW_CFA_undefined:
        case DW_CFA_same_value: {
          const std::uint64_t reg = code.uleb();
          if (reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
            state.return_address_undefined = op == DW_CFA_undefined;  // the outermost frame
            state.return_address_saved = false;
          } else if (reg == static_cast<std::uint64_t>(kRegFp)) {
            state.fp_saved = false;
          }
          continue;
        }
        case DW_CFA_register: {  // a register saved in another register
          const std::uint64_t reg = code.uleb();
          code.uleb();
          if (reg == static_cast<std::uint64_t>(kRegFp) || reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
            return false;
          }
          continue;
        }
        case DW_CFA_remember_state:
          if (depth == kMaxRemembered) {
            return false;
          }
          remembered[depth++] = state;
          continue;
        case DW_CFA_restore_state:
          if (depth == 0) {
            return false;
          }
          state = remembered[--depth];
          continue;
        case DW_CFA_def_cfa:
          state.cfa_reg = static_cast<int>(code.uleb());
          state.cfa_offset = static_cast<std::int64_t>(code.uleb());
          continue;
        case DW_CFA_def_cfa_register:
          state.cfa_reg = static_cast<int>(code.uleb());
          continue;
        case DW_CFA_def_cfa_offset:
          state.cfa_offset = static_cast<std::int64_t>(code.uleb());
          continue;
        case DW_CFA_offset_extended_sf: {
          const std::uint64_t reg = code.uleb();
          set_register(reg, true, code.sleb() * data_align);
          continue;
        }
        case DW_CFA_def_cfa_sf:
          state.cfa_reg = static_cast<int>(code.uleb());
          state.cfa_offset = code.sleb() * data_align;
          continue;
        case DW_CFA_def_cfa_offset_sf:
          state.cfa_offset = code.sleb() * data_align;
          continue;
        case DW_CFA_GNU_args_size:
          code.uleb();
          continue;
        case DW_CFA_expression:
        case DW_CFA_val_expression: {
          const std::uint64_t reg = code.uleb();
          const std::uint64_t length = code.uleb();
          code.p += length;
          if (reg == static_cast<std::uint64_t>(kRegFp) || reg == static_cast<std::uint64_t>(kRegReturnAddress)) {
            return false;
          }
          continue;
        }
        case kCfaNegateRaState:
          if (!kSignedReturnAddresses) {
            return false;  // SPARC's window save: not this architecture's code
          }
          state.return_address_signed = !state.return_address_signed;
          continue;
        default:  // DW_CFA_def_cfa_expression, DW_CFA_set_loc, DW_CFA_val_offset, ...: not modelled
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

// The .eh_frame_hdr of the object holding `address`, from its program headers: for a static
// program, where _dl_find_object finds the object but gives no dlfo_eh_frame (glibc 2.36).
// dl_iterate_phdr takes the loader's recursive lock and never allocates.
const void* eh_frame_header_by_phdr(const void* address) {
  struct Search {
    std::uintptr_t address;
    const void* header;
  } search{reinterpret_cast<std::uintptr_t>(address), nullptr};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) -> int {
        auto* s = static_cast<Search*>(data);
        bool holds = false;
        const void* header = nullptr;
        for (std::size_t i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& h = info->dlpi_phdr[i];
          const std::uintptr_t start = info->dlpi_addr + h.p_vaddr;
          if (h.p_type == PT_LOAD && s->address >= start && s->address < start + h.p_memsz) {
            holds = true;
          } else if (h.p_type == PT_GNU_EH_FRAME) {
            header = reinterpret_cast<const void*>(start);
          }
        }
        if (holds) {
          s->header = header;
          return 1;
        }
        return 0;
      },
      &search);
  return search.header;
}

enum class FdeLookup {
  found,
  none,     // pc is in a loaded object that has no call-frame information for it
  unknown,  // no index to search: a static program, code in no loaded object (JIT), an odd index
};

// The FDE whose table entry is the last to start at or before `pc`, from its object's
// .eh_frame_hdr index (found with _dl_find_object: lock-free, allocation-free and
// async-signal-safe, glibc 2.35), and the function start that entry names. Why before libgcc's
// _Unwind_Find_FDE: that one takes a lock and mallocs under it where frames are registered (a
// static program, a JIT), so it runs with the thread's signals blocked inside a ReentrancyGuard
// (OwnLibcCall: two system calls); with the index, a dynamic program's walks never call libgcc.
// Whether pc is inside the FDE's range is for the caller to check (it decodes
// the FDE anyway).
FdeLookup find_fde(std::uintptr_t pc, const std::uint8_t** fde, std::uintptr_t* func) {
  dl_find_object object{};
  if (_dl_find_object(reinterpret_cast<void*>(pc), &object) != 0) {
    return FdeLookup::unknown;
  }
  const void* found =
      object.dlfo_eh_frame != nullptr ? object.dlfo_eh_frame : eh_frame_header_by_phdr(object.dlfo_map_start);
  if (found == nullptr) {
    return FdeLookup::unknown;
  }
  // version 1; how eh_frame_ptr, fde_count and the table are encoded. Every linker writes the
  // table as pairs of 4-byte offsets from the header (datarel sdata4); anything else: libgcc.
  const auto* header = static_cast<const std::uint8_t*>(found);
  if (header[0] != 1 || header[2] != DW_EH_PE_udata4 || header[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4)) {
    return FdeLookup::unknown;
  }
  Reader r{header + 4, header + 4 + 16};
  if (!r.skip_encoded(header[1])) {
    return FdeLookup::unknown;
  }
  const std::uint32_t count = r.fixed<std::uint32_t>();
  const std::uint8_t* table = r.p;
  const auto offset = static_cast<std::int64_t>(pc - reinterpret_cast<std::uintptr_t>(header));
  const auto start_of = [table](std::uint32_t i) {
    std::int32_t start = 0;
    std::memcpy(&start, table + 8 * static_cast<std::size_t>(i), 4);
    return static_cast<std::int64_t>(start);
  };
  // The number of entries starting at or before pc; the one before it is the candidate.
  std::uint32_t low = 0;
  std::uint32_t high = count;
  while (low < high) {
    const std::uint32_t mid = low + (high - low) / 2;
    if (start_of(mid) <= offset) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  if (low == 0) {
    return FdeLookup::none;
  }
  std::int32_t fde_offset = 0;
  std::memcpy(&fde_offset, table + 8 * static_cast<std::size_t>(low - 1) + 4, 4);
  *fde = header + fde_offset;
  *func = reinterpret_cast<std::uintptr_t>(header) + static_cast<std::uintptr_t>(start_of(low - 1));
  return FdeLookup::found;
}

}  // namespace

UnwindRule rule_for_pc(std::uintptr_t pc) noexcept {
  UnwindRule rule;
  const std::uint8_t* fde = nullptr;
  std::uintptr_t func = 0;
  switch (find_fde(pc, &fde, &func)) {
    case FdeLookup::found:
      break;
    case FdeLookup::none:
      rule.no_fde = true;
      return rule;
    case FdeLookup::unknown: {
      // libgcc takes a lock here and, the first time, mallocs under it (sorting the registered
      // FDEs): that malloc is the profiler's, and no handler runs meanwhile (its walk would come
      // back here and wait for the lock this thread holds; its allocation would be taken for
      // the profiler's).
      const OwnLibcCall own;
      DwarfEhBases bases{};
      fde = static_cast<const std::uint8_t*>(_Unwind_Find_FDE(reinterpret_cast<void*>(pc), &bases));
      func = reinterpret_cast<std::uintptr_t>(bases.func);
      if (fde == nullptr) {
        rule.no_fde = true;
        return rule;
      }
      break;
    }
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
      } else if (*a == 'B' && kSignedReturnAddresses) {
        // AArch64: return addresses signed with the B key; stripping needs no key.
      } else {
        return rule;  // 'S' (signal frames) and anything unknown: let libgcc handle it
      }
    }
    c.p = aug_end;
  }

  Reader f{fde + 8, fde_end};
  std::uint64_t range = 0;
  if (!f.skip_encoded(fde_encoding) || !f.read_value(fde_encoding, &range)) {
    return rule;
  }
  if (pc - func >= range) {
    rule.no_fde = true;  // after the candidate's end: no FDE covers pc (as libgcc finds)
    return rule;
  }
  if (augmentation[0] == 'z') {
    f.p += f.uleb();
  }

  CfaState initial;
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
  if ((state.cfa_reg != kRegSp && state.cfa_reg != kRegFp) || !state.return_address_saved ||
      (kReturnAddressAtFixedOffset && state.return_address_offset != kReturnAddressFromCfa)) {
    return rule;  // the return address still in its register, or somewhere else: libgcc's job
  }
  rule.valid = true;
  rule.cfa_from_fp = state.cfa_reg == kRegFp;
  rule.cfa_offset = static_cast<std::int32_t>(state.cfa_offset);
  rule.fp_saved = state.fp_saved;
  rule.fp_offset = static_cast<std::int32_t>(state.fp_offset);
  rule.return_address_offset = static_cast<std::int32_t>(state.return_address_offset);
  rule.return_address_signed = state.return_address_signed;
  return rule;
}

}  // namespace dhat::core
