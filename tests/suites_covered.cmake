# Fails when qfscale_tests holds a doctest suite that no unit.<module> CTest entry runs.
execute_process(COMMAND ${TESTS} --list-test-suites --no-version OUTPUT_VARIABLE listing
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not list suites of ${TESTS}")
endif()
file(GLOB modules LIST_DIRECTORIES true RELATIVE ${UNIT_DIR} ${UNIT_DIR}/*)
string(REPLACE "\n" ";" lines "${listing}")
foreach(line IN LISTS lines)
  string(STRIP "${line}" suite)
  if(suite STREQUAL "" OR suite MATCHES "^\\[doctest\\]" OR suite MATCHES "^=+$")
    continue()
  endif()
  list(FIND modules "${suite}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "doctest suite '${suite}' has no tests/unit/${suite}/ directory, "
                        "so no CTest entry runs it")
  endif()
endforeach()
