# packaging.cmake — Debian packages of sluice with CPack's DEB generator,
# one per install component (CMakeLists.txt, "install"):
#   sluice         the binary, man page, systemd units, example configuration
#   libsluice0     libsluice.so.0 (the Schema Registry client and Avro codec)
#   libsluice-dev  headers, libsluice.a, the libsluice.so link, sluice.pc
# Run from a build configured with -DCMAKE_INSTALL_PREFIX=/usr (Debian's
# multiarch libdir comes from that): `cpack -G DEB` in the build directory
# (`make deb` does both). Dependencies on Debian's libraries come from
# dpkg-shlibdeps. CPack makes CPACK_PACKAGE_DESCRIPTION_SUMMARY the synopsis
# line of every package; each component's text follows it. The packages
# install nothing into /etc and start nothing (docs/OPERATIONS.md,
# "Installing"). tests/integration/deb_package.sh builds
# the packages and unpacks them into a temporary root.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sluice)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "sluice")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "events from HTTP producers into ClickHouse through Kafka, with Schema Registry schemas")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(SLUICE_DEB_MAINTAINER "sluice maintainers <sluice@localhost>" CACHE STRING
    "Maintainer field of the Debian packages")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${SLUICE_DEB_MAINTAINER})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli lib dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)

set(CPACK_DEBIAN_CLI_PACKAGE_NAME sluice)
set(CPACK_DEBIAN_CLI_DESCRIPTION
    "The sluice command: sluice ingest (HTTP to Kafka, validated against\n\
Schema Registry schemas), sluice sink (Kafka to ClickHouse, bounded memory,\n\
at-least-once), sluice registry (a Confluent-compatible Schema Registry on\n\
SQLite), sluice run, top, ddl and check-config, with systemd units.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libsluice0)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_LIB_DESCRIPTION
    "Schema Registry client and Avro codec of sluice (shared library)\n\
A Confluent Schema Registry client with caches and single-flight requests,\n\
Avro schema parsing, compatibility and binary-to-JSON decoding, and the\n\
Confluent wire framing.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libsluice-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libsluice0 (= ${PROJECT_VERSION}-1), libcurl4-openssl-dev | libcurl-dev, libjansson-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "Schema Registry client and Avro codec of sluice (development files)\n\
Headers, the static library and pkg-config metadata (pkg-config sluice).")
include(CPack)
