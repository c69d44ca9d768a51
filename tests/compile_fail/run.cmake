# cmake -DCXX=... -DINCLUDE=... [-DEXTRA_INCLUDES=a;b] -DSOURCE=... -DCASE=... [-DEXPECT=regex]
#   -P run.cmake
# Compiles SOURCE with CASE_<CASE> defined. Without EXPECT it must compile; with EXPECT it must
# fail AND the compiler's output must match EXPECT (so that an unrelated error cannot pass).
set(defs)
if(NOT CASE STREQUAL "OK")
  set(defs -DCASE_${CASE})
endif()
set(includes -I${INCLUDE})
foreach(dir IN LISTS EXTRA_INCLUDES)
  list(APPEND includes -I${dir})
endforeach()
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only ${includes} ${defs} ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT DEFINED EXPECT)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the control case does not compile:\n${err}")
  endif()
  return()
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "case ${CASE} compiled, but it must not")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "case ${CASE} failed without the expected diagnostic '${EXPECT}':\n${err}")
endif()
string(REGEX MATCH "[^\n]*error:[^\n]*" first "${err}")
message(STATUS "case ${CASE}: ${first}")
