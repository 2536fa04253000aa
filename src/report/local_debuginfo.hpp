// Finding a stripped binary's separate debug file on this machine, and nowhere else.
//
// Contract: `find_local_debuginfo` is a Dwfl_Callbacks::find_debuginfo. It looks where
// dwfl_standard_find_debuginfo looks on disk (the build-id tree under /usr/lib/debug, then the
// file its .gnu_debuglink names: next to the binary, in its .debug directory, under
// /usr/lib/debug), then in debuginfod's cache of files already downloaded (by gdb, say). It
// never asks a debuginfod server and never loads libdebuginfod. When the module has a build id,
// a candidate is used only if its build id is the same; without one (rare since binutils 2.18)
// the first existing candidate that is not the binary itself is used, unchecked.
//
// Why: the standard search ends by loading libdebuginfod, which brings libcurl, OpenSSL and
// Kerberos into the profiled process (7.7 MB of peak memory for one frame in a libstdc++ without
// its -dbg package), and with DEBUGINFOD_URLS set it downloads debug files over the network
// while the program exits. Valgrind's DHAT reads local files only; so do we.
#pragma once

#include <elfutils/libdwfl.h>

#include <string>
#include <vector>

namespace dhat::report {

// Where debuginfod keeps downloaded files: $DEBUGINFOD_CACHE_PATH, else
// $XDG_CACHE_HOME/debuginfod_client, else $HOME/.cache/debuginfod_client ("" if none is set).
std::string debuginfod_cache_directory();

// The paths to try, in order, for the debug file of `file_name` (absolute; may be null), whose
// build id is `build_id_hex` (may be empty) and whose .gnu_debuglink names `debuglink` (may be
// null). `debug_root` is /usr/lib/debug outside tests; `cache` may be empty.
std::vector<std::string> debuginfo_candidates(const std::string& build_id_hex, const char* file_name,
                                              const char* debuglink, const std::string& debug_root,
                                              const std::string& cache);

// The GNU build id of the ELF file at `path`, in lower-case hex ("" if none, or not ELF).
std::string build_id_of(const char* path);

// Opens the first of `candidates` that is the debug file wanted (see the contract); its path goes
// to `*opened_path` (malloc'd, as libdwfl frees it). -1 if none is.
[[nodiscard]] int open_debuginfo(const std::vector<std::string>& candidates, const std::string& build_id_hex,
                                 const char* file_name, char** opened_path);

int find_local_debuginfo(Dwfl_Module* module, void** user_data, const char* module_name, Dwarf_Addr base,
                         const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                         char** debuginfo_file_name);

}  // namespace dhat::report
