// A C library's allocations are recorded like the program's own: SQLite counts its outstanding
// allocations itself (sqlite3_status), and the blocks live in our profile at t-end whose stacks
// pass through libsqlite3 must be exactly those.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "profiled_run.hpp"

using dhat_test::profile_of;

namespace {

TEST(CLibrary, SqliteAllocationsMatchSqlitesOwnCount) {
  sqlite3* db = nullptr;
  int sqlite_blocks = -1, sqlite_peak = 0;
  auto profile = profile_of(
      [&] {
        ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX tn ON t(name);",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        for (int i = 0; i < 500; ++i) {
          const std::string sql = "INSERT INTO t(name) VALUES('row-" + std::to_string(i * 7919 % 1000) + "')";
          ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        }
        ASSERT_EQ(sqlite3_status(SQLITE_STATUS_MALLOC_COUNT, &sqlite_blocks, &sqlite_peak, 0), SQLITE_OK);
      },
      32);
  sqlite3_close(db);
  const auto through_sqlite = dhat_test::Profile::sum(profile.passing_through("libsqlite3"));
  ASSERT_GT(sqlite_blocks, 0);
  EXPECT_EQ(through_sqlite.ebk, static_cast<std::uint64_t>(sqlite_blocks));
  EXPECT_GT(through_sqlite.tbk, through_sqlite.ebk);
}

}  // namespace
