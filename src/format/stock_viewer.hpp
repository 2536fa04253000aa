// Where Valgrind's stock viewer (dh_view.html) is on this machine. It is Valgrind's and GPL:
// dhat-cpp finds it, serves it and names it, and never copies it.
//
// Contract: `find_stock_viewer` returns the first readable file of: `preferred` (if given),
// $DHAT_VIEWER, then Valgrind's install places in `kStockViewerPlaces`; "" if none is.
#pragma once

#include <string>

namespace dhat::format {

inline constexpr const char* kStockViewerPlaces[] = {
    "/usr/libexec/valgrind/dh_view.html",
    "/usr/lib/valgrind/dh_view.html",
    "/usr/local/libexec/valgrind/dh_view.html",
    "/usr/local/lib/valgrind/dh_view.html",
};

std::string find_stock_viewer(const std::string& preferred = "");

}  // namespace dhat::format
