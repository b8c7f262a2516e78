# Run by `cmake --install` (install(CODE) in CMakeLists.txt): writes the systemd units and the
# services' environment file with the paths of THIS install's prefix, so one build installs
# correctly to any --prefix. FHS: /usr's configuration lives in /etc, any other prefix's in
# <prefix>/etc (GNUInstallDirs' rule). SRC is the source tree.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(sysconf "/etc")
else()
  set(sysconf "${prefix}/etc")
endif()
set(ROSTRUM_BINDIR "${prefix}/bin")
set(ROSTRUM_SYSCONFDIR "${sysconf}")
set(ROSTRUM_DOCDIR "${prefix}/share/doc/rostrum")
file(READ "${SRC}/deploy/systemd/sandbox.inc" ROSTRUM_SANDBOX)
set(stage "${CMAKE_BINARY_DIR}/deploy/systemd")
foreach(unit rostrum-api.service rostrum-api.socket rostrum-worker.service rostrum-live.service)
  configure_file("${SRC}/deploy/systemd/${unit}.in" "${stage}/${unit}" @ONLY)
endforeach()
file(INSTALL "${stage}/" DESTINATION "${prefix}/lib/systemd/system" FILES_MATCHING PATTERN "rostrum-*")
# The environment file holds secrets (the database URL): root's and the service group's to read.
file(INSTALL "${SRC}/deploy/rostrum.env" DESTINATION "${sysconf}/rostrum"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
