#include "report/dwarf_symbolizer.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "report/backward_symbolizer.hpp"
#include "report/local_debuginfo.hpp"
#include "report/symbol_index.hpp"

namespace dhat::report {

namespace {

std::string demangled(const char* symbol) {
  int status = 0;
  char* text = abi::__cxa_demangle(symbol, nullptr, nullptr, &status);
  if (status != 0 || text == nullptr) {
    std::free(text);
    return symbol;
  }
  std::string result = text;
  std::free(text);
  return result;
}

// The path of the binary or library `module` was reported from (/proc/PID/maps).
std::string object_of(Dwfl_Module* module) {
  const char* name = dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  return name == nullptr ? "" : name;
}

bool has_pc_attributes(Dwarf_Die* die) {
  return dwarf_hasattr(die, DW_AT_low_pc) != 0 || dwarf_hasattr(die, DW_AT_ranges) != 0;
}

bool die_contains(Dwarf_Die* die, Dwarf_Addr pc) {
  Dwarf_Addr base = 0, low = 0, high = 0;
  ptrdiff_t offset = 0;
  while ((offset = dwarf_ranges(die, offset, &base, &low, &high)) > 0) {
    if (pc >= low && pc < high) {
      return true;
    }
  }
  return false;
}

// The unit of `module` whose ranges hold `address`, found by asking every unit: for code the
// .debug_aranges section does not cover (Clang leaves it out by default), where
// dwfl_module_addrdie finds nothing.
Dwarf_Die* unit_by_ranges(Dwfl_Module* module, Dwarf_Addr address, Dwarf_Addr* bias) {
  Dwarf_Die* unit = nullptr;
  while ((unit = dwfl_module_nextcu(module, unit, bias)) != nullptr) {
    if (die_contains(unit, address - *bias)) {
      return unit;
    }
  }
  return nullptr;
}

// One address range of a concrete (out-of-line) function in a unit.
struct FunctionRange {
  Dwarf_Addr low;
  Dwarf_Addr high;
  Dwarf_Off die_offset;
};

// Collects the ranges of every concrete function under `parent`, looking inside namespaces and
// classes but never inside a function (what is inside a function is found per address).
void collect_functions(Dwarf_Die* parent, std::vector<FunctionRange>& out) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) {
    return;
  }
  do {
    const int tag = dwarf_tag(&child);
    if (tag == DW_TAG_subprogram) {
      Dwarf_Addr base = 0, low = 0, high = 0;
      ptrdiff_t offset = 0;
      while ((offset = dwarf_ranges(&child, offset, &base, &low, &high)) > 0) {
        out.push_back(FunctionRange{low, high, dwarf_dieoffset(&child)});
      }
    } else if (tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
               tag == DW_TAG_union_type || tag == DW_TAG_module) {
      collect_functions(&child, out);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// The file a DW_AT_call_file index names, in the unit's file table.
std::string call_file_of(Dwarf_Die* die, Dwarf_Die* cu, int dwarf_version) {
  Dwarf_Attribute attribute;
  Dwarf_Word index = 0;
  if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attribute), &index) != 0) {
    return "";
  }
  if (index == 0 && dwarf_version < 5) {
    return "";  // before DWARF 5, file 0 means "no file"
  }
  Dwarf_Files* files = nullptr;
  std::size_t count = 0;
  if (dwarf_getsrcfiles(cu, &files, &count) != 0 || index >= count) {
    return "";
  }
  const char* name = dwarf_filesrc(files, index, nullptr, nullptr);
  return name == nullptr ? "" : name;
}

// Appends to `path` the inlined calls under `scope` that hold pc, outermost first. Lexical
// blocks are looked through; one without address attributes is searched, since what it holds
// may have them.
bool find_inlined_path(Dwarf_Die* scope, Dwarf_Addr pc, std::vector<Dwarf_Die>& path) {
  Dwarf_Die child;
  if (dwarf_child(scope, &child) != 0) {
    return false;
  }
  do {
    const int tag = dwarf_tag(&child);
    if (tag == DW_TAG_inlined_subroutine) {
      if (die_contains(&child, pc)) {
        path.push_back(child);
        find_inlined_path(&child, pc, path);
        return true;
      }
    } else if (tag == DW_TAG_lexical_block) {
      if (!has_pc_attributes(&child)) {
        if (find_inlined_path(&child, pc, path)) {
          return true;
        }
      } else if (die_contains(&child, pc)) {
        find_inlined_path(&child, pc, path);
        return true;
      }
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

}  // namespace

struct DwarfSymbolizer::Impl {
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;
  // Per unit (keyed by its DIE's global offset within its module's Dwarf): functions by address.
  std::unordered_map<const void*, std::unordered_map<Dwarf_Off, std::vector<FunctionRange>>> units;
  std::unique_ptr<BackwardSymbolizer> fallback;
  std::unordered_map<Dwfl_Module*, SymbolIndex> symbol_indexes;  // built on a module's first lookup

  // The symbol-table name of the code at `address` (dwfl_module_addrname's, found by binary search).
  const char* symbol_name(Dwfl_Module* module, Dwarf_Addr address) {
    auto found = symbol_indexes.find(module);
    if (found == symbol_indexes.end()) {
      found = symbol_indexes.emplace(module, SymbolIndex::of(module)).first;
    }
    return found->second.name_at(address);
  }

  Impl() {
    callbacks.find_elf = &dwfl_linux_proc_find_elf;
    callbacks.find_debuginfo = &find_local_debuginfo;  // never libdebuginfod (see its header)
    dwfl = dwfl_begin(&callbacks);
    if (dwfl == nullptr) {
      return;
    }
    dwfl_report_begin(dwfl);
    const int reported = dwfl_linux_proc_report(dwfl, getpid());
    dwfl_report_end(dwfl, nullptr, nullptr);
    if (reported < 0) {
      dwfl_end(dwfl);
      dwfl = nullptr;
    }
  }
  ~Impl() {
    if (dwfl != nullptr) {
      dwfl_end(dwfl);
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  const std::vector<FunctionRange>& functions_of(Dwarf_Die* cu) {
    auto& per_module = units[dwarf_cu_getdwarf(cu->cu)];
    auto found = per_module.find(dwarf_dieoffset(cu));
    if (found != per_module.end()) {
      return found->second;
    }
    std::vector<FunctionRange> functions;
    collect_functions(cu, functions);
    std::sort(functions.begin(), functions.end(),
              [](const FunctionRange& a, const FunctionRange& b) { return a.low < b.low; });
    return per_module.emplace(dwarf_dieoffset(cu), std::move(functions)).first->second;
  }

  // The function DIE whose code holds `pc` (an address relative to the unit's module).
  bool function_at(Dwarf_Die* cu, Dwarf_Addr pc, Dwarf_Die* out) {
    const std::vector<FunctionRange>& functions = functions_of(cu);
    // Ranges of distinct functions do not overlap; the candidate is the last one starting at or
    // before pc (a few more are checked in case of zero-length or odd ranges).
    auto it = std::upper_bound(functions.begin(), functions.end(), pc,
                               [](Dwarf_Addr value, const FunctionRange& r) { return value < r.low; });
    for (int tries = 0; tries < 4 && it != functions.begin(); ++tries) {
      --it;
      if (pc >= it->low && pc < it->high) {
        return dwarf_offdie(dwarf_cu_getdwarf(cu->cu), it->die_offset, out) != nullptr;
      }
    }
    return false;
  }
};

DwarfSymbolizer::DwarfSymbolizer() : impl_(std::make_unique<Impl>()) {}
DwarfSymbolizer::~DwarfSymbolizer() = default;

std::vector<Frame> DwarfSymbolizer::resolve(std::uintptr_t return_address) {
  std::vector<Frame> known;
  if (resolved_.find(return_address, &known)) {
    return known;
  }
  // A return address points after the call; the call itself (and its line) is one byte before.
  const std::uintptr_t call_address = return_address - 1;
  Dwfl_Module* module = impl_->dwfl == nullptr ? nullptr : dwfl_addrmodule(impl_->dwfl, call_address);
  Dwarf_Addr bias = 0;
  if (module != nullptr && dwfl_module_getdwarf(module, &bias) == nullptr) {
    // No debug information for this library (libstdc++ without its -dbg package): the symbol
    // table names the function and there is no line to find. backward-cpp would say the same
    // after opening its own libdw session, which cost 7.6 MB of peak memory on four threads.
    const char* symbol = impl_->symbol_name(module, call_address);
    return resolved_.keep(
        return_address, {Frame{call_address, symbol == nullptr ? "???" : demangled(symbol), "", 0, object_of(module)}});
  }
  Dwarf_Die* cu = module == nullptr ? nullptr : dwfl_module_addrdie(module, call_address, &bias);
  if (cu == nullptr && module != nullptr) {
    cu = unit_by_ranges(module, call_address, &bias);
  }
  if (cu == nullptr) {
    // No module (code libdw was not told about), or in no unit: backward-cpp has its say.
    if (!impl_->fallback) {
      impl_->fallback = std::make_unique<BackwardSymbolizer>();
    }
    ++fallbacks_;
    return resolved_.keep(return_address, impl_->fallback->resolve(return_address));
  }
  const std::string object = object_of(module);
  std::string outer_function;
  if (const char* symbol = impl_->symbol_name(module, call_address)) {
    outer_function = demangled(symbol);
  }
  const Dwarf_Addr pc = call_address - bias;
  std::string file;
  unsigned line = 0;
  if (Dwarf_Line* source = dwarf_getsrc_die(cu, pc)) {
    if (const char* name = dwarf_linesrc(source, nullptr, nullptr)) {
      file = name;
    }
    int number = 0;
    dwarf_lineno(source, &number);
    line = static_cast<unsigned>(number);
  }

  // The chain of inlined calls holding pc, outermost first: descend from the function through
  // the DIEs that contain pc (lexical blocks without ranges are looked into as well).
  std::vector<Dwarf_Die> inlined;
  Dwarf_Die function;
  std::string unit_function;  // the DWARF name, when the symbol table has none
  if (impl_->function_at(cu, pc, &function)) {
    if (const char* name = dwarf_diename(&function)) {
      unit_function = name;
    }
    find_inlined_path(&function, pc, inlined);
  }

  Dwarf_Word version = 0;
  {
    Dwarf_Half unit_version = 0;
    if (dwarf_cu_info(cu->cu, &unit_version, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr) == 0) {
      version = unit_version;
    }
  }
  std::vector<Frame> frames;
  for (auto it = inlined.rbegin(); it != inlined.rend(); ++it) {
    Dwarf_Die& call = *it;
    const char* name = dwarf_diename(&call);
    frames.push_back(Frame{call_address, name == nullptr ? "" : name, file, line, object});
    file = call_file_of(&call, cu, static_cast<int>(version));
    Dwarf_Attribute attribute;
    Dwarf_Word call_line = 0;
    dwarf_formudata(dwarf_attr(&call, DW_AT_call_line, &attribute), &call_line);
    line = static_cast<unsigned>(call_line);
  }
  frames.push_back(Frame{call_address, outer_function.empty() ? unit_function : outer_function, file, line, object});
  return resolved_.keep(return_address, std::move(frames));
}

}  // namespace dhat::report
