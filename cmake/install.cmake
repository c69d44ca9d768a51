# Install rules and the package config, with components, so that C++ users can write
#   find_package(forrealtime REQUIRED)                       # everything installed whose
#                                                            # dependencies are found
#   find_package(forrealtime REQUIRED COMPONENTS core)       # no hiredis or libpq needed
#   find_package(forrealtime REQUIRED COMPONENTS redis gateway)
#   target_link_libraries(app PRIVATE forrealtime::forrealtime)   # + forrealtime::redis, ::gateway
# Components: core (forrealtime::forrealtime and its parts), redis (hiredis), postgres_sync
# (libpq), gateway (Beast; libcrypto, which core needs too for JWT). No Asio or Beast compile definition reaches the host's code.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(_fr_dest ${CMAKE_INSTALL_LIBDIR}/cmake/forrealtime)

function(_fr_install_component component)
  foreach(t IN LISTS ARGN)
    string(REGEX REPLACE "^forrealtime_" "" name ${t})
    set_target_properties(${t} PROPERTIES EXPORT_NAME ${name})
  endforeach()
  install(TARGETS ${ARGN} EXPORT forrealtime_${component}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT forrealtime_${component} NAMESPACE forrealtime:: DESTINATION ${_fr_dest}
    FILE forrealtime-${component}.cmake)
endfunction()

_fr_install_component(core forrealtime_core forrealtime_auth forrealtime_asio forrealtime_asio_ssl
  forrealtime_beast
  forrealtime_store_api forrealtime_store_memory forrealtime_metrics forrealtime_hub
  forrealtime_realtime forrealtime_http forrealtime)
set_target_properties(forrealtime PROPERTIES EXPORT_NAME forrealtime)
set(_fr_components core)
if(TARGET forrealtime_redis)
  _fr_install_component(redis forrealtime_redis)
  list(APPEND _fr_components redis)
endif()
set(_fr_libpq_target "")
if(TARGET forrealtime_postgres_sync)
  _fr_install_component(postgres_sync forrealtime_postgres_sync)
  list(APPEND _fr_components postgres_sync)
  get_property(_fr_libpq_target GLOBAL PROPERTY FORREALTIME_LIBPQ_TARGET)
endif()
_fr_install_component(gateway forrealtime_gateway forrealtime_console)
list(APPEND _fr_components gateway)

# The program is the .deb's "server" component (packaging/cpack.cmake); the template of
# version.hpp stays behind (version.cmake installs the generated header).
install(TARGETS forrealtime-bin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(DIRECTORY include/forrealtime DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  PATTERN "*.in" EXCLUDE)

file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake.in [[
@PACKAGE_INIT@
# Components: core (always), redis, postgres_sync, gateway. Without COMPONENTS, every installed
# component whose dependencies are found is loaded; a component asked for by name is required.
include(CMakeFindDependencyMacro)
set(_fr_installed @_fr_components@)
find_dependency(Boost 1.81 CONFIG COMPONENTS json url system)
find_dependency(Threads)
find_dependency(OpenSSL 3 COMPONENTS SSL Crypto)
find_dependency(spdlog)
include("${CMAKE_CURRENT_LIST_DIR}/forrealtime-core.cmake")
set(forrealtime_core_FOUND TRUE)

set(_fr_wanted ${forrealtime_FIND_COMPONENTS})
if(NOT _fr_wanted)
  set(_fr_wanted ${_fr_installed})
endif()
foreach(_fr_c IN LISTS _fr_wanted)
  if(_fr_c STREQUAL "core")
    continue()
  endif()
  set(forrealtime_${_fr_c}_FOUND FALSE)
  if(NOT _fr_c IN_LIST _fr_installed)
    continue()
  endif()
  set(_fr_ok TRUE)
  if(_fr_c STREQUAL "redis")
    find_package(PkgConfig QUIET)
    if(PkgConfig_FOUND AND NOT TARGET PkgConfig::HIREDIS)
      pkg_check_modules(HIREDIS QUIET IMPORTED_TARGET hiredis)
    endif()
    if(NOT TARGET PkgConfig::HIREDIS)
      set(_fr_ok FALSE)
    endif()
  elseif(_fr_c STREQUAL "postgres_sync")
    if("@_fr_libpq_target@" STREQUAL "PostgreSQL::PostgreSQL")
      find_package(PostgreSQL QUIET)
    else()
      find_package(PkgConfig QUIET)
      if(PkgConfig_FOUND AND NOT TARGET PkgConfig::LIBPQ)
        pkg_check_modules(LIBPQ QUIET IMPORTED_TARGET libpq)
      endif()
    endif()
    if(NOT TARGET @_fr_libpq_target@)
      set(_fr_ok FALSE)
    endif()
  elseif(_fr_c STREQUAL "gateway")
    find_package(OpenSSL 3 QUIET COMPONENTS Crypto)
    if(NOT TARGET OpenSSL::Crypto)
      set(_fr_ok FALSE)
    endif()
  endif()
  if(_fr_ok)
    include("${CMAKE_CURRENT_LIST_DIR}/forrealtime-${_fr_c}.cmake")
    set(forrealtime_${_fr_c}_FOUND TRUE)
  elseif(forrealtime_FIND_REQUIRED_${_fr_c})
    set(forrealtime_NOT_FOUND_MESSAGE
      "forrealtime: the ${_fr_c} component needs a dependency that was not found")
  endif()
endforeach()
check_required_components(forrealtime)
]])
configure_package_config_file(${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake
  INSTALL_DESTINATION ${_fr_dest})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/forrealtimeConfigVersion.cmake
  DESTINATION ${_fr_dest})
