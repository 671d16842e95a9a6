# Installs the client library: ratchet::client (with ratchet::api,
# ratchet::api_proto and ratchet::base, which it links) and its headers,
# under a CMake package `ratchet`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(ratchet_base PROPERTIES EXPORT_NAME base)
install(TARGETS ratchet_client ratchet_api ratchet_api_proto ratchet_base ratchet_durable
  EXPORT ratchetTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY client/include/ api/include/ engine/durable/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY storage/include/ratchet/base DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ratchet)
install(DIRECTORY ${PROJECT_BINARY_DIR}/api/proto/gen/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(DIRECTORY api/proto/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ratchet/proto
  FILES_MATCHING PATTERN "*.proto")
install(EXPORT ratchetTargets NAMESPACE ratchet::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ratchet)
configure_package_config_file(cmake/ratchetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ratchetConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ratchet)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ratchetConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ratchetConfig.cmake
  ${PROJECT_BINARY_DIR}/ratchetConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ratchet)
install(TARGETS ratchetd ratchet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The server's deploy files (make install): the systemd unit, and the
# example config and auth file under share/ratchet (copy them to
# /etc/ratchet; an install never overwrites a live config).
install(FILES deploy/systemd/ratchetd.service DESTINATION lib/systemd/system)
install(FILES deploy/ratchetd.toml deploy/auth.example.toml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/ratchet)
