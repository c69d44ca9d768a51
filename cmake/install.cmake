# Install rules and the package config, so that C++ users can write
#   find_package(forrealtime REQUIRED)
#   target_link_libraries(app PRIVATE forrealtime::forrealtime)   # + forrealtime::redis, ::gateway
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_fr_targets forrealtime_core forrealtime_auth forrealtime_asio forrealtime_beast forrealtime
  forrealtime_gateway forrealtime_metrics forrealtime_console)
if(TARGET forrealtime_redis)
  list(APPEND _fr_targets forrealtime_redis)
endif()
if(TARGET forrealtime_postgres_sync)
  list(APPEND _fr_targets forrealtime_postgres_sync)
endif()
set_target_properties(forrealtime_core PROPERTIES EXPORT_NAME core)
set_target_properties(forrealtime_auth PROPERTIES EXPORT_NAME auth)
set_target_properties(forrealtime_asio PROPERTIES EXPORT_NAME asio)
set_target_properties(forrealtime_beast PROPERTIES EXPORT_NAME beast)
set_target_properties(forrealtime PROPERTIES EXPORT_NAME forrealtime)
set_target_properties(forrealtime_gateway PROPERTIES EXPORT_NAME gateway)
if(TARGET forrealtime_redis)
  set_target_properties(forrealtime_redis PROPERTIES EXPORT_NAME redis)
endif()
if(TARGET forrealtime_postgres_sync)
  set_target_properties(forrealtime_postgres_sync PROPERTIES EXPORT_NAME postgres_sync)
endif()

install(TARGETS ${_fr_targets} EXPORT forrealtimeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS forrealtime-bin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(DIRECTORY include/forrealtime DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  PATTERN "*.in" EXCLUDE)
install(EXPORT forrealtimeTargets NAMESPACE forrealtime::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/forrealtime)

file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake.in [[
@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(Boost 1.81 CONFIG COMPONENTS json url system)
find_dependency(Threads)
find_dependency(OpenSSL 3 COMPONENTS Crypto)
find_dependency(spdlog)
find_dependency(PkgConfig)
pkg_check_modules(HIREDIS IMPORTED_TARGET hiredis)
find_dependency(PostgreSQL)
include("${CMAKE_CURRENT_LIST_DIR}/forrealtimeTargets.cmake")
]])
configure_package_config_file(${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/forrealtime)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/forrealtime)
