# The version lives in one place: project(forrealtime VERSION ...) in the top CMakeLists.txt.
# This writes it into <build>/include/forrealtime/version.hpp (FORREALTIME_VERSION), which the
# program, the console and the build_info metric read, and installs the header.
configure_file(${PROJECT_SOURCE_DIR}/include/forrealtime/version.hpp.in
  ${PROJECT_BINARY_DIR}/include/forrealtime/version.hpp @ONLY)
target_include_directories(forrealtime_core PUBLIC $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>)
install(FILES ${PROJECT_BINARY_DIR}/include/forrealtime/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/forrealtime COMPONENT dev)
