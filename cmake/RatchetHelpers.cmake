# One helper per target kind, in the manner of Abseil's AbseilHelpers.cmake.

# Partial aggregate initialisation of request structs is intended usage.
set(RATCHET_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter -Wno-missing-field-initializers)
if(RATCHET_WERROR)
  list(APPEND RATCHET_WARNINGS -Werror)
endif()
if(RATCHET_SANITIZE)
  add_compile_options(-fsanitize=${RATCHET_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${RATCHET_SANITIZE})
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
