# Settings every target of ours gets: strict warnings (errors), optional sanitizers.
# Third-party headers come in through imported targets, which CMake marks SYSTEM, so their warnings stay out.
function(coach_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Werror)
  if(COACH_SANITIZE)
    string(REPLACE ";" "," sanitizers "${COACH_SANITIZE}")
    target_compile_options(${target} PRIVATE -fsanitize=${sanitizers} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${sanitizers})
  endif()
endfunction()

# Catch2 test binary for one library: coach_add_test_suite(NAME coach_dialog_tests LIBS coach::dialog SOURCES ...)
function(coach_add_test_suite)
  cmake_parse_arguments(ARG "" "NAME" "LIBS;SOURCES" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} Catch2::Catch2WithMain)
  target_compile_definitions(${ARG_NAME} PRIVATE COACH_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                                 COACH_BINARY_DIR="${PROJECT_BINARY_DIR}")
  coach_target_defaults(${ARG_NAME})
  catch_discover_tests(${ARG_NAME} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTIES TIMEOUT 300)
endfunction()
