// The symbol index names code exactly as libdw's dwfl_module_addrname does, on every function of
// every module of this process (libc, libstdc++, libm, libgcc_s, the test itself, ...): at its
// start, its middle, its last byte and just past its end, where the next symbol or a label
// takes over. (Return addresses are code; in data, around the linker's sizeless local labels
// such as _DYNAMIC, the two may differ.)
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "report/symbol_index.hpp"

namespace {

struct Comparison {
  std::size_t modules = 0;
  std::size_t addresses = 0;
  std::size_t mismatches = 0;
  std::vector<std::string> examples;
};

int compare_module(Dwfl_Module* module, void**, const char* name, Dwarf_Addr, void* context) {
  auto* out = static_cast<Comparison*>(context);
  const dhat::report::SymbolIndex index = dhat::report::SymbolIndex::of(module);
  const int count = dwfl_module_getsymtab(module);
  if (count <= 0) {
    return DWARF_CB_OK;
  }
  ++out->modules;
  Dwarf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(module, &bias);
  const auto compare = [&](GElf_Addr address) {
    const char* expected = dwfl_module_addrname(module, address);
    const char* ours = index.name_at(address);
    ++out->addresses;
    if ((expected == nullptr) != (ours == nullptr) || (expected != nullptr && std::strcmp(expected, ours) != 0)) {
      ++out->mismatches;
      if (out->examples.size() < 10) {
        out->examples.push_back(std::string(name) + " at +" + std::to_string(address - bias) + ": libdw " +
                                (expected == nullptr ? "(none)" : expected) + ", index " +
                                (ours == nullptr ? "(none)" : ours));
      }
    }
  };
  for (int i = 1; i < count; ++i) {
    GElf_Sym symbol{};
    GElf_Addr start = 0;
    if (dwfl_module_getsym_info(module, i, &symbol, &start, nullptr, nullptr, nullptr) == nullptr || start == 0 ||
        (GELF_ST_TYPE(symbol.st_info) != STT_FUNC && GELF_ST_TYPE(symbol.st_info) != STT_GNU_IFUNC)) {
      continue;
    }
    const GElf_Addr probes[] = {start, start + symbol.st_size / 2, start + symbol.st_size - 1, start + symbol.st_size};
    for (const GElf_Addr address : probes) {
      compare(address);
    }
  }
  // And every 128th byte of the module's code, gaps between symbols included (static functions
  // of a library that has only .dynsym).
  Elf_Scn* scn = nullptr;
  while (elf != nullptr && (scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr header{};
    if (gelf_getshdr(scn, &header) == nullptr || (header.sh_flags & SHF_EXECINSTR) == 0) {
      continue;
    }
    const Dwarf_Addr low = header.sh_addr + bias;
    for (Dwarf_Addr address = low; address < low + header.sh_size; address += 128) {
      compare(address);
    }
  }
  return DWARF_CB_OK;
}

TEST(SymbolIndex, NamesEveryAddressAsLibdwDoes) {
  Dwfl_Callbacks callbacks{};
  callbacks.find_elf = &dwfl_linux_proc_find_elf;
  callbacks.find_debuginfo = &dwfl_standard_find_debuginfo;
  Dwfl* dwfl = dwfl_begin(&callbacks);
  ASSERT_NE(dwfl, nullptr);
  dwfl_report_begin(dwfl);
  ASSERT_EQ(dwfl_linux_proc_report(dwfl, getpid()), 0);
  dwfl_report_end(dwfl, nullptr, nullptr);
  Comparison comparison;
  dwfl_getmodules(dwfl, &compare_module, &comparison, 0);
  dwfl_end(dwfl);
  std::string examples;
  for (const std::string& example : comparison.examples) {
    examples += example + "\n";
  }
  std::printf("%zu modules, %zu addresses compared\n", comparison.modules, comparison.addresses);
  EXPECT_GE(comparison.modules, 4U);
  EXPECT_GE(comparison.addresses, 10000U);
  EXPECT_EQ(comparison.mismatches, 0U) << examples;
}

}  // namespace
