# One helper per target kind, in the manner of Abseil's AbseilHelpers.cmake.

# Partial aggregate initialisation of request structs is intended usage.
set(RATCHET_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter -Wno-missing-field-initializers)

# RATCHET_THREAD_SAFETY: Clang's -Wthread-safety, which checks the
# ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations. GCC has no such
# analysis (and ignores the attributes), so the option does nothing there.
if(RATCHET_THREAD_SAFETY)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    list(APPEND RATCHET_WARNINGS -Wthread-safety)
  else()
    message(STATUS "RATCHET_THREAD_SAFETY: ${CMAKE_CXX_COMPILER_ID} has no -Wthread-safety; ignored")
  endif()
endif()

if(RATCHET_WERROR)
  list(APPEND RATCHET_WARNINGS -Werror)
endif()

# RATCHET_FUZZ: libFuzzer's coverage instrumentation on every target
# (-fsanitize=fuzzer-no-link; the fuzz targets alone link -fsanitize=fuzzer),
# with AddressSanitizer and UndefinedBehaviorSanitizer unless RATCHET_SANITIZE
# names others.
if(RATCHET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "RATCHET_FUZZ needs clang (libFuzzer), e.g. CXX=clang++-14")
  endif()
  if(NOT RATCHET_SANITIZE)
    set(RATCHET_SANITIZE "address,undefined")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# RATCHET_SANITIZE: a comma (or semicolon) separated list of sanitizers, e.g.
# "address,undefined". Applies to every target, the tests and their libraries
# included (the Debian-built dependencies stay uninstrumented). UBSan is made
# fatal (-fno-sanitize-recover) so that a report fails the test that hit it.
# RATCHET_INVARIANTS: RATCHET_INVARIANT(...) assertions (ratchet/base/invariant.h)
# are checked, not compiled away. On in Debug builds and in every sanitizer build.
if(RATCHET_INVARIANTS OR RATCHET_SANITIZE)
  add_compile_definitions(RATCHET_CHECK_INVARIANTS=1)
endif()

if(RATCHET_SANITIZE)
  string(REPLACE "," ";" _ratchet_sanitizers "${RATCHET_SANITIZE}")
  list(TRANSFORM _ratchet_sanitizers STRIP)
  list(REMOVE_ITEM _ratchet_sanitizers "")
  list(REMOVE_DUPLICATES _ratchet_sanitizers)
  foreach(_s IN LISTS _ratchet_sanitizers)
    if(NOT _s MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "RATCHET_SANITIZE: unknown sanitizer '${_s}' "
        "(expected a comma list of address, undefined, thread, leak)")
    endif()
  endforeach()
  if("thread" IN_LIST _ratchet_sanitizers AND
     ("address" IN_LIST _ratchet_sanitizers OR "leak" IN_LIST _ratchet_sanitizers))
    message(FATAL_ERROR "RATCHET_SANITIZE: thread cannot be combined with address or leak")
  endif()
  list(JOIN _ratchet_sanitizers "," _ratchet_sanitize_flag)
  add_compile_options(-fsanitize=${_ratchet_sanitize_flag} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_ratchet_sanitize_flag})
  if("undefined" IN_LIST _ratchet_sanitizers)
    add_compile_options(-fno-sanitize-recover=undefined)
    add_link_options(-fno-sanitize-recover=undefined)
  endif()
  message(STATUS "RATCHET_SANITIZE: -fsanitize=${_ratchet_sanitize_flag}")
endif()

# ratchet_cc_library(NAME n SRCS ... DEPS ... [PUBLIC_INCLUDE dir])
# Defines ratchet_<n> with alias ratchet::<n>.
function(ratchet_cc_library)
  cmake_parse_arguments(R "" "NAME;PUBLIC_INCLUDE" "SRCS;DEPS" ${ARGN})
  add_library(ratchet_${R_NAME} ${R_SRCS})
  add_library(ratchet::${R_NAME} ALIAS ratchet_${R_NAME})
  target_compile_options(ratchet_${R_NAME} PRIVATE ${RATCHET_WARNINGS})
  if(R_PUBLIC_INCLUDE)
    target_include_directories(ratchet_${R_NAME} PUBLIC
      $<BUILD_INTERFACE:${R_PUBLIC_INCLUDE}> $<INSTALL_INTERFACE:include>)
  endif()
  target_link_libraries(ratchet_${R_NAME} PUBLIC ${R_DEPS})
endfunction()

# ratchet_cc_test(NAME n SRCS ... DEPS ... LABELS ... [TIMEOUT s])
# A GoogleTest binary registered with ctest under the given labels.
function(ratchet_cc_test)
  cmake_parse_arguments(R "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${R_NAME} ${R_SRCS})
  target_compile_options(${R_NAME} PRIVATE ${RATCHET_WARNINGS})
  target_link_libraries(${R_NAME} PRIVATE ${R_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${R_NAME} COMMAND ${R_NAME})
  if(NOT R_TIMEOUT)
    set(R_TIMEOUT 300)
  endif()
  set_tests_properties(${R_NAME} PROPERTIES LABELS "${R_LABELS}" TIMEOUT ${R_TIMEOUT})
endfunction()

# ratchet_cc_binary(NAME n SRCS ... DEPS ...)
function(ratchet_cc_binary)
  cmake_parse_arguments(R "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${R_NAME} ${R_SRCS})
  target_compile_options(${R_NAME} PRIVATE ${RATCHET_WARNINGS})
  target_link_libraries(${R_NAME} PRIVATE ${R_DEPS})
endfunction()

# ratchet_collect_targets(OUT dir...): every buildable target defined in the
# given source directories and their subdirectories.
function(ratchet_collect_targets out)
  set(result "")
  foreach(dir IN LISTS ARGN)
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t IN LISTS targets)
      get_target_property(type ${t} TYPE)
      if(type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
        list(APPEND result ${t})
      endif()
    endforeach()
    get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
    if(subdirs)
      ratchet_collect_targets(sub ${subdirs})
      list(APPEND result ${sub})
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

# ratchet_cc_fuzz(NAME n SRCS ... DEPS ...): a libFuzzer target n_fuzz (only
# with RATCHET_FUZZ), part of the aggregate target ratchet_fuzz. Its seed
# corpus is tests/fuzz/corpus/n.
function(ratchet_cc_fuzz)
  cmake_parse_arguments(R "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${R_NAME}_fuzz ${R_SRCS})
  target_compile_options(${R_NAME}_fuzz PRIVATE ${RATCHET_WARNINGS})
  target_link_libraries(${R_NAME}_fuzz PRIVATE ${R_DEPS})
  target_link_options(${R_NAME}_fuzz PRIVATE -fsanitize=fuzzer)
  add_dependencies(ratchet_fuzz ${R_NAME}_fuzz)
endfunction()
