# The peer tools some tests compare with or drive (Valgrind, SQLite, Node.js with Chromium and
# playwright-core, heaptrack, python3, perl, rsvg-convert). Each is optional: on a machine
# without one, the tests that need it are registered anyway and report "Skipped" with the reason
# (ctest's skip status), instead of failing to configure or running broken. DHAT_REQUIRE_PEERS=ON
# (CI) makes a missing peer a configure error, so that CI runs every test.

# dhat_find_peer(NAME PROGRAM PACKAGE): sets DHAT_<NAME> (the program's path) and DHAT_HAVE_<NAME>
# (1 or 0) in the caller.
function(dhat_find_peer name program package)
  # Cross-built (the aarch64 preset), the tests run arm64 programs: this machine's Valgrind and
  # heaptrack cannot run them, and its sqlite3, python3, perl (what dhat-run profiles in the
  # comparisons with Valgrind) cannot load the arm64 preload library. Tools that only read what
  # the programs write (Node.js, Chromium, rsvg-convert) still serve.
  if(CMAKE_CROSSCOMPILING AND name MATCHES "^(VALGRIND|HEAPTRACK|SQLITE3_CLI|PYTHON3|PERL|REDIS_SERVER|REDIS_CLI)$")
    message(STATUS "dhat: cross-built for ${CMAKE_SYSTEM_PROCESSOR}: the tests that need this machine's ${program} are skipped")
    set(DHAT_HAVE_${name} 0 PARENT_SCOPE)
    return()
  endif()
  find_program(DHAT_${name} ${program})
  if(DHAT_${name})
    set(DHAT_HAVE_${name} 1 PARENT_SCOPE)
    return()
  endif()
  if(DHAT_REQUIRE_PEERS)
    message(FATAL_ERROR "dhat: ${program} not found, and DHAT_REQUIRE_PEERS is on (Debian: apt-get install ${package})")
  endif()
  message(STATUS "dhat: ${program} not found: the tests that need it will be skipped (Debian: apt-get install ${package})")
  set(DHAT_HAVE_${name} 0 PARENT_SCOPE)
endfunction()

# dhat_peer_test(NAME name NEEDS flag... REASON text COMMAND ...  [other add_test arguments]): the
# test when every DHAT_HAVE_<flag> is 1, else a test that says what is missing and is skipped.
function(dhat_peer_test)
  # PARSE_ARGV keeps a semicolon inside one argument (a shell command) escaped when forwarded.
  cmake_parse_arguments(PARSE_ARGV 0 PEER "" "NAME;REASON" "NEEDS")
  foreach(flag IN LISTS PEER_NEEDS)
    if(NOT DHAT_HAVE_${flag})
      add_test(NAME ${PEER_NAME} COMMAND sh -c "echo 'skipped: ${PEER_REASON}'; exit 77")
      set_tests_properties(${PEER_NAME} PROPERTIES SKIP_RETURN_CODE 77)
      return()
    endif()
  endforeach()
  add_test(NAME ${PEER_NAME} ${PEER_UNPARSED_ARGUMENTS})
endfunction()

# A GoogleTest executable's skipped tests (GTEST_SKIP: a peer is missing) show as skipped in ctest.
set(DHAT_GTEST_SKIP_REGEX "\\[  SKIPPED \\]")
