#include "output_text.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace dhat::viewer {

bool write_output(const std::string& out, const std::string& text, std::string* error) {
  if (out == "-") {
    std::cout << text << std::flush;
    return static_cast<bool>(std::cout);
  }
  struct stat target {};
  if (stat(out.c_str(), &target) == 0 && !S_ISREG(target.st_mode)) {
    std::ofstream file(out, std::ios::binary);
    if (!(file << text) || !file.flush()) {
      *error = "cannot write '" + out + "'";
      return false;
    }
    return true;
  }
  std::string destination = out;
  struct stat link {};
  if (lstat(out.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    char* resolved = realpath(out.c_str(), nullptr);
    if (resolved != nullptr) {
      destination = resolved;
      std::free(resolved);
    }
  }
  const std::string temporary = destination + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!(file << text) || !file.flush()) {
      *error = "cannot write '" + temporary + "'";
      file.close();
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::rename(temporary.c_str(), destination.c_str()) != 0) {
    *error = "cannot rename '" + temporary + "' to '" + destination + "'";
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace dhat::viewer
