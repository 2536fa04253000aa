// A module's symbol table sorted by address, for naming code that has no debug information.
//
// Contract: built once per module (SymbolIndex::of) from libdw's view of the module's symbol
// table (.symtab, else .dynsym; addresses as loaded); `name_at` gives, for an address in code,
// the name libdw's dwfl_module_addrname gives (a unit test compares the two around every function
// of every module of its process), or null. Names point into libdw's data: valid while the Dwfl
// lives.
//
// Why: dwfl_module_addrname reads every symbol of the module on every call. On g++'s cc1plus
// (31,000 symbols in .dynsym, no debug information) that was 0.9 ms per address, 2.2 s at the
// end of compiling an empty file. A binary search is a microsecond.
//
// The rule (libdw's): a symbol whose range holds the address, global or weak ones before local
// ones; among those the nearest start below the address, then global before weak, then the
// smaller range, then the first in the table; with none, the nearest sizeless symbol below in the
// address's own section (the last in the table of those at one address), unless some symbol's
// range ends between it and the address. Checked for code addresses, the only ones looked up.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <vector>

namespace dhat::report {

class SymbolIndex {
 public:
  [[nodiscard]] static SymbolIndex of(Dwfl_Module* module);
  [[nodiscard]] const char* name_at(Dwarf_Addr address) const;
  std::size_t size() const noexcept { return symbols_.size(); }

 private:
  struct Symbol {
    Dwarf_Addr start;
    Dwarf_Addr end;  // start + size
    std::uint32_t table_index;
    std::uint8_t rank;     // 3 global, 2 weak, 1 local (libdw's binding order)
    bool outside_globals;  // before the table's first global entry: searched only if nothing else holds
    const char* name;
    bool absolute;  // SHN_ABS and the like: a sizeless one names only its own address
    // For a sizeless symbol, its section as loaded: it names only addresses in that section.
    Dwarf_Addr section_start;
    Dwarf_Addr section_end;
  };
  std::vector<Symbol> symbols_;         // by start, then table order
  std::vector<Dwarf_Addr> end_so_far_;  // the largest end among symbols_[0..i]
};

}  // namespace dhat::report
