# cmake -DCXX=... -DSOURCE=... -DCASE=... -DINCLUDES=a;b -DDEFINES=x;y [-DEXPECT=regex]
#   -P run.cmake
# Compiles SOURCE with CASE_<CASE> and a target's include directories and definitions. Without
# EXPECT it must compile; with EXPECT it must fail with output matching EXPECT.
set(args -std=c++20 -fsyntax-only -DCASE_${CASE})
foreach(dir IN LISTS INCLUDES)
  if(dir)  # an empty entry would make `-I` swallow the next argument
    list(APPEND args -I${dir})
  endif()
endforeach()
foreach(def IN LISTS DEFINES)
  if(def)
    list(APPEND args -D${def})
  endif()
endforeach()
execute_process(COMMAND ${CXX} ${args} ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT DEFINED EXPECT)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "case ${CASE} must compile:\n${err}")
  endif()
  return()
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "case ${CASE} compiled, but the layering forbids it")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "case ${CASE} failed without the expected '${EXPECT}':\n${err}")
endif()
string(REGEX MATCH "[^\n]*error:[^\n]*" first "${err}")
message(STATUS "case ${CASE}: ${first}")
