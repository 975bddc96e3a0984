# Install rules and the exported package: find_package(actjit CONFIG) gives
# actjit::core (and actjit::jit, actjit::nn when built).
include(CMakePackageConfigHelpers)
set(ACTJIT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/actjit)
set(_actjit_targets actjit_core)
if(TARGET actjit_jit)
  list(APPEND _actjit_targets actjit_jit)
endif()
if(TARGET actjit_nn)
  list(APPEND _actjit_targets actjit_nn)
endif()
install(TARGETS ${_actjit_targets} EXPORT actjitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS actjit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/actjit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT actjitTargets NAMESPACE actjit:: DESTINATION ${ACTJIT_INSTALL_CMAKEDIR})
set(ACTJIT_PACKAGE_HAS_JIT ${ACTJIT_WITH_JIT})
set(ACTJIT_PACKAGE_HAS_NN ${ACTJIT_WITH_NN})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/actjitConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/actjitConfig.cmake INSTALL_DESTINATION ${ACTJIT_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/actjitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/actjitConfig.cmake ${PROJECT_BINARY_DIR}/actjitConfigVersion.cmake
        DESTINATION ${ACTJIT_INSTALL_CMAKEDIR})
