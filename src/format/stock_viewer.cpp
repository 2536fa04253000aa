#include "format/stock_viewer.hpp"

#include <unistd.h>

#include <cstdlib>

namespace dhat::format {

std::string find_stock_viewer(const std::string& preferred) {
  const auto readable = [](const char* path) { return path != nullptr && *path != '\0' && access(path, R_OK) == 0; };
  if (!preferred.empty()) {
    return readable(preferred.c_str()) ? preferred : "";
  }
  if (const char* from_env = std::getenv("DHAT_VIEWER"); readable(from_env)) {
    return from_env;
  }
  for (const char* place : kStockViewerPlaces) {
    if (readable(place)) {
      return place;
    }
  }
  return "";
}

}  // namespace dhat::format
