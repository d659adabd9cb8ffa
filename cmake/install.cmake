# `cmake --install` layout (prefix /usr in the .deb) and the CPack .deb. See README.md, Install.
#   bin/qfscale
#   share/qfscale/policies/*.yaml         the shipped policies (also compiled into the binary)
#   share/qfscale/grafana/{dashboards,rules,provisioning}/
#   share/qfscale/examples/qfscale.yaml   a commented controller config for /etc/qfscale (Prometheus)
#   share/qfscale/examples/qianfan-metrics.yaml   the same with Qianfan's DescribeServiceMetric
#   share/qfscale/examples/fake.yaml      for `qfscale fake-qianfan`'s built-in scenario
#   lib/systemd/system/qfscale.service
#   share/doc/qfscale/README.md
include(GNUInstallDirs)
set(QFS_DATA_DIR ${CMAKE_INSTALL_DATADIR}/qfscale)

install(TARGETS qfscale RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/policies/ DESTINATION ${QFS_DATA_DIR}/policies
        FILES_MATCHING PATTERN "*.yaml" PATTERN "README.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/grafana/dashboards ${PROJECT_SOURCE_DIR}/grafana/provisioning
        DESTINATION ${QFS_DATA_DIR}/grafana)
# The rules without their promtool unit tests, which are for this repository's CI.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/grafana/rules DESTINATION ${QFS_DATA_DIR}/grafana
        PATTERN tests EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/grafana/README.md ${PROJECT_SOURCE_DIR}/grafana/METRICS.md
        DESTINATION ${QFS_DATA_DIR}/grafana)
install(FILES ${PROJECT_SOURCE_DIR}/examples/qfscale.yaml ${PROJECT_SOURCE_DIR}/examples/fake.yaml
              ${PROJECT_SOURCE_DIR}/examples/qianfan-metrics.yaml
        DESTINATION ${QFS_DATA_DIR}/examples)
# lib/, not CMAKE_INSTALL_LIBDIR: systemd looks in /usr/lib/systemd/system, never lib64 or a
# multiarch directory.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/qfscale.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME qfscale)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "qfscale maintainers <qfscale@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Autoscaler for Baidu Qianfan model services")
# The extended description; CPack puts the summary above it and indents it for the control file.
set(CPACK_PACKAGE_DESCRIPTION
    "qfscale scales Qianfan model services across compute-unit instances from
Prometheus or Qianfan metrics, following declarative scaling policies. The
package ships the binary, the policies, Grafana dashboards and Prometheus
rules, an example config and a systemd unit (installed, not enabled).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the binary's libraries (dpkg-shlibdeps)
set(CPACK_STRIP_FILES ON)
include(CPack)
