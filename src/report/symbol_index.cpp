#include "report/symbol_index.hpp"

#include <gelf.h>

#include <algorithm>

namespace dhat::report {

namespace {

std::uint8_t rank_of(unsigned char info) {
  switch (GELF_ST_BIND(info)) {
    case STB_GLOBAL:
      return 3;
    case STB_WEAK:
      return 2;
    case STB_LOCAL:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

SymbolIndex SymbolIndex::of(Dwfl_Module* module) {
  SymbolIndex index;
  const int count = dwfl_module_getsymtab(module);
  const int first_global = dwfl_module_getsymtab_first_global(module);
  if (count <= 0) {
    return index;
  }
  index.symbols_.reserve(static_cast<std::size_t>(count));
  for (int i = 1; i < count; ++i) {  // entry 0 is the null symbol
    GElf_Sym symbol{};
    GElf_Addr address = 0;
    GElf_Word section = 0;
    Elf* elf = nullptr;
    Dwarf_Addr bias = 0;
    const char* name = dwfl_module_getsym_info(module, i, &symbol, &address, &section, &elf, &bias);
    const int type = GELF_ST_TYPE(symbol.st_info);
    if (name == nullptr || name[0] == '\0' || section == SHN_UNDEF || type == STT_SECTION || type == STT_FILE ||
        type == STT_TLS) {
      continue;
    }
    Dwarf_Addr section_start = 0;
    Dwarf_Addr section_end = 0;
    if (symbol.st_size == 0 && elf != nullptr && section < SHN_LORESERVE) {
      GElf_Shdr header{};
      if (Elf_Scn* scn = elf_getscn(elf, section); scn != nullptr && gelf_getshdr(scn, &header) != nullptr) {
        section_start = header.sh_addr + bias;
        section_end = section_start + header.sh_size;
      }
    }
    index.symbols_.push_back(Symbol{address, address + symbol.st_size, static_cast<std::uint32_t>(i),
                                    rank_of(symbol.st_info), first_global > 0 && i < first_global, name,
                                    section >= SHN_LORESERVE, section_start, section_end});
  }
  std::sort(index.symbols_.begin(), index.symbols_.end(), [](const Symbol& a, const Symbol& b) {
    return a.start != b.start ? a.start < b.start : a.table_index < b.table_index;
  });
  index.end_so_far_.reserve(index.symbols_.size());
  Dwarf_Addr end = 0;
  for (const Symbol& symbol : index.symbols_) {
    end = std::max(end, symbol.end);
    index.end_so_far_.push_back(end);
  }
  return index;
}

const char* SymbolIndex::name_at(Dwarf_Addr address) const {
  // symbols_[0, below) start at or before the address.
  const auto below = static_cast<std::size_t>(
      std::upper_bound(symbols_.begin(), symbols_.end(), address,
                       [](Dwarf_Addr value, const Symbol& symbol) { return value < symbol.start; }) -
      symbols_.begin());
  if (below == 0) {
    return nullptr;
  }
  // Is `a` a better holder of the address than `b` (both hold it)?
  const auto better = [](const Symbol& a, const Symbol& b) {
    if (a.start != b.start) {
      return a.start > b.start;
    }
    if (a.rank != b.rank) {
      return a.rank > b.rank;
    }
    if (a.end - a.start != b.end - b.start) {
      return a.end - a.start < b.end - b.start;
    }
    return a.table_index < b.table_index;
  };
  // Global and weak symbols first; local ones only if none of those holds the address.
  const Symbol* sizeless = nullptr;
  for (const bool locals : {false, true}) {
    const Symbol* holder = nullptr;
    for (std::size_t j = below; j-- > 0 && end_so_far_[j] > address;) {
      const Symbol& symbol = symbols_[j];
      if (symbol.outside_globals == locals && symbol.end > address && (holder == nullptr || better(symbol, *holder))) {
        holder = &symbol;
      }
    }
    if (holder != nullptr) {
      return holder->name;
    }
    // A sizeless symbol (an assembly label) names what follows it, up to the next symbol's end.
    const Dwarf_Addr min_label = end_so_far_[below - 1];
    for (std::size_t j = below; j-- > 0 && symbols_[j].start >= min_label;) {
      const Symbol& symbol = symbols_[j];
      if (symbol.outside_globals == locals && symbol.end == symbol.start &&
          (symbol.absolute
               ? symbol.start == address
               : address >= symbol.section_start && (address < symbol.section_end || address == symbol.start)) &&
          (sizeless == nullptr || symbol.start > sizeless->start ||
           (symbol.start == sizeless->start &&
            (symbol.rank > sizeless->rank ||
             (symbol.rank == sizeless->rank && symbol.table_index > sizeless->table_index))))) {
        sizeless = &symbol;
      }
    }
    if (sizeless != nullptr && sizeless->start == address) {
      break;  // an exact label among the globals: the locals are not looked at
    }
  }
  return sizeless == nullptr ? nullptr : sizeless->name;
}

}  // namespace dhat::report
