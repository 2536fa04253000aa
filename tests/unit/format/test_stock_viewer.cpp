// Where dh_view.html is: a given path, else $DHAT_VIEWER, else Valgrind's install places.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "format/stock_viewer.hpp"

using dhat::format::find_stock_viewer;
using dhat::format::kStockViewerPlaces;

namespace {

std::string make_file(const std::string& name) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::FILE* file = std::fopen(path.c_str(), "w");
  std::fputs("<html></html>", file);
  std::fclose(file);
  return path;
}

std::string first_installed_place() {
  for (const char* place : kStockViewerPlaces) {
    if (access(place, R_OK) == 0) {
      return place;
    }
  }
  return "";
}

TEST(StockViewer, APathGivenWinsAndMustExist) {
  const std::string given = make_file("given-dh_view.html");
  setenv("DHAT_VIEWER", "/nonexistent/dh_view.html", 1);
  EXPECT_EQ(find_stock_viewer(given), given);
  EXPECT_EQ(find_stock_viewer("/nonexistent/given.html"), "");  // never another one instead
  unsetenv("DHAT_VIEWER");
}

TEST(StockViewer, TheEnvironmentThenValgrindsPlaces) {
  const std::string from_env = make_file("env-dh_view.html");
  setenv("DHAT_VIEWER", from_env.c_str(), 1);
  EXPECT_EQ(find_stock_viewer(), from_env);
  setenv("DHAT_VIEWER", "/nonexistent/dh_view.html", 1);  // unreadable: fall through
  EXPECT_EQ(find_stock_viewer(), first_installed_place());
  unsetenv("DHAT_VIEWER");
  EXPECT_EQ(find_stock_viewer(), first_installed_place());
}

}  // namespace
