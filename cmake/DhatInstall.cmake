# Installs the headers, the library and the `dhat` CMake package (find_package(dhat) -> dhat::dhat),
# and exports the same targets from the build tree (dhat_DIR=<build dir> works without installing).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/dhat DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS dhat EXPORT dhatTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

if(TARGET dhat_preload)
  install(TARGETS dhat_preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/src/preload/dhat-run DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(DHAT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dhat)
install(EXPORT dhatTargets NAMESPACE dhat:: DESTINATION ${DHAT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dhatConfig.cmake.in
  ${PROJECT_BINARY_DIR}/dhatConfig.cmake INSTALL_DESTINATION ${DHAT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dhatConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dhatConfig.cmake ${PROJECT_BINARY_DIR}/dhatConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/DhatPkgModule.cmake ${PROJECT_SOURCE_DIR}/cmake/DhatKeepFrames.cmake
  DESTINATION ${DHAT_CMAKE_DIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/DhatPkgModule.cmake ${PROJECT_BINARY_DIR}/DhatPkgModule.cmake COPYONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/DhatKeepFrames.cmake ${PROJECT_BINARY_DIR}/DhatKeepFrames.cmake COPYONLY)

# The build tree as a package too: dhatConfig.cmake (above, in the build directory) includes
# this file from its own directory.
export(EXPORT dhatTargets NAMESPACE dhat:: FILE ${PROJECT_BINARY_DIR}/dhatTargets.cmake)
