#include "report/local_debuginfo.hpp"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace dhat::report {

namespace {

constexpr const char* kDebugRoot = "/usr/lib/debug";

std::string hex_of(const unsigned char* bytes, int length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < length; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0xf];
  }
  return hex;
}

// The build id of the ELF file open on `fd`, in hex ("" if it has none or is not ELF).
std::string build_id_of_file(int fd) {
  elf_version(EV_CURRENT);  // libelf's required first call; repeating it is harmless
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) {
    return "";
  }
  const void* bytes = nullptr;
  const ssize_t length = dwelf_elf_gnu_build_id(elf, &bytes);
  std::string hex = length > 0 ? hex_of(static_cast<const unsigned char*>(bytes), static_cast<int>(length)) : "";
  elf_end(elf);
  return hex;
}

bool same_file(int fd, const char* path) {
  struct stat opened {};
  struct stat other {};
  return path != nullptr && fstat(fd, &opened) == 0 && stat(path, &other) == 0 && opened.st_dev == other.st_dev &&
         opened.st_ino == other.st_ino;
}

}  // namespace

std::string build_id_of(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return "";
  }
  std::string hex = build_id_of_file(fd);
  close(fd);
  return hex;
}

std::string debuginfod_cache_directory() {
  if (const char* path = std::getenv("DEBUGINFOD_CACHE_PATH"); path != nullptr && *path != '\0') {
    return path;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/debuginfod_client";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.cache/debuginfod_client";
  }
  return "";
}

std::vector<std::string> debuginfo_candidates(const std::string& build_id_hex, const char* file_name,
                                              const char* debuglink, const std::string& debug_root,
                                              const std::string& cache) {
  std::vector<std::string> candidates;
  if (build_id_hex.size() > 2) {
    candidates.push_back(debug_root + "/.build-id/" + build_id_hex.substr(0, 2) + "/" + build_id_hex.substr(2) +
                         ".debug");
  }
  if (debuglink != nullptr && *debuglink != '\0') {
    if (debuglink[0] == '/') {
      candidates.emplace_back(debuglink);
    } else if (file_name != nullptr && file_name[0] == '/') {
      const std::string path = file_name;
      const std::string directory = path.substr(0, path.rfind('/'));  // "" for a file in "/"
      candidates.push_back(directory + "/" + debuglink);
      candidates.push_back(directory + "/.debug/" + debuglink);
      candidates.push_back(debug_root + directory + "/" + debuglink);
    }
  }
  if (!build_id_hex.empty() && !cache.empty()) {
    candidates.push_back(cache + "/" + build_id_hex + "/debuginfo");
  }
  return candidates;
}

int find_local_debuginfo(Dwfl_Module* module, void** /*user_data*/, const char* /*module_name*/, Dwarf_Addr /*base*/,
                         const char* file_name, const char* debuglink_file, GElf_Word /*debuglink_crc*/,
                         char** debuginfo_file_name) {
  const unsigned char* bits = nullptr;
  GElf_Addr note_address = 0;
  const int bits_length = dwfl_module_build_id(module, &bits, &note_address);
  const std::string build_id = bits_length > 0 ? hex_of(bits, bits_length) : "";
  return open_debuginfo(
      debuginfo_candidates(build_id, file_name, debuglink_file, kDebugRoot, debuginfod_cache_directory()), build_id,
      file_name, debuginfo_file_name);
}

int open_debuginfo(const std::vector<std::string>& candidates, const std::string& build_id_hex, const char* file_name,
                   char** opened_path) {
  for (const std::string& candidate : candidates) {
    const int fd = open(candidate.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    const bool usable = build_id_hex.empty() ? !same_file(fd, file_name) : build_id_of_file(fd) == build_id_hex;
    if (usable) {
      *opened_path = strdup(candidate.c_str());
      return fd;
    }
    close(fd);
  }
  return -1;
}

}  // namespace dhat::report
