# The Debian package: `cpack -G DEB` in the build directory (after building forrealtime-bin)
# writes forrealtime_<version>_<arch>.deb with the program, the systemd unit, the conffile
# /etc/forrealtime/config.json and the maintainer scripts (a `forrealtime` system user).
# Only the `server` component goes in: the static libraries and headers are for
# `cmake --install` (find_package), not for the package.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/forrealtime.service
  DESTINATION /usr/lib/systemd/system COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/config.json
  DESTINATION /etc/forrealtime COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  ${PROJECT_SOURCE_DIR}/LICENSE
  DESTINATION share/doc/forrealtime COMPONENT server EXCLUDE_FROM_ALL)

set(CPACK_PACKAGE_NAME forrealtime)
set(CPACK_PACKAGE_VENDOR "the forrealtime authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "realtime gateway: typed server-sent events backed by Redis Streams")
set(CPACK_PACKAGE_DESCRIPTION
  "forrealtime serve is a standalone realtime server: browsers subscribe with one EventSource,\n"
  "backends emit typed events over HTTP, every event is kept in a stream (memory or Redis)\n"
  "so that a client that drops replays what it missed.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_PACKAGE_NAME forrealtime)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "forrealtime maintainers <maintainers@forrealtime.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
