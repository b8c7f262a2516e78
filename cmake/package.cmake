# The Debian package (`make deb`): CPack's DEB generator over the same install rules as
# `make install`, so the package and a hand install can never lay out different trees, and CI
# packages the build it already has instead of building the sources a second time (what
# dpkg-buildpackage would do). dpkg-shlibdeps computes the library dependencies.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rostrum)
set(CPACK_PACKAGE_VERSION 0.8.0)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "Rostrum maintainers <maintainers@rostrum.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted server for spoken work")
# CPack puts the summary on the Description line and indents these lines under it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Rostrum transcribes speech offline (pocketsphinx), measures how it was
delivered and keeps every session: speech practice, a clinical scribe, an
interview simulator, voice-to-tasks and a team tracker behind one REST and
WebSocket API. This package installs the binary, systemd units (nothing is
enabled), the data directory and an nginx site to link.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, pocketsphinx-en-us, ssl-cert")
# hunspell-en-us: the spelling check of typed interview answers (without it spelling is simply
# not checked).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nginx | nginx-light, postgresql, hunspell-en-us")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_SOURCE_DIR}/deploy/debian/postinst;${CMAKE_SOURCE_DIR}/deploy/debian/prerm;${CMAKE_SOURCE_DIR}/deploy/debian/postrm;${CMAKE_SOURCE_DIR}/deploy/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
