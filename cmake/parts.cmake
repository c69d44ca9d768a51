# The parts of the library and what each may see.
#
# Every part is one CMake target. Its private headers (src/<part>/*.hpp, included as
# "<part>/x.hpp") are visible only to that target and to the targets that link it, through an
# include directory of its own (build/parts/<target>/, symlinks to the headers) instead of one
# include path for all of src/. So an include across a forbidden edge, e.g. the hub including
# "http/session.hpp", fails to compile: "No such file or directory" (tests/layers proves it).
#
# The edges, from the bottom up (a part may use those below it, never those above):
#   core                      pure logic; no Asio
#   asio, beast               Asio and Beast compiled once
#   store_api                 the Store glue for Asio (store/await.hpp)
#   store_memory, redis       the stores
#   metrics                   counters and histograms of the data path
#   hub                       the live tail fanned out to shards
#   realtime                  Realtime, server-side subscribe, schemas
#   http                      handle(): the SSE endpoint over any sink, and the SSE session
#   postgres_sync             the plugin
#   auth, console, gateway    the Beast gateway and its parts
#   cli                       the program
set(FORREALTIME_PARTS_DIR ${PROJECT_BINARY_DIR}/parts)

# forrealtime_part_headers(<target> <glob relative to src/>... [EXCLUDE <path>...])
function(forrealtime_part_headers target)
  cmake_parse_arguments(PARSE_ARGV 1 P "" "" "EXCLUDE")
  set(root ${PROJECT_SOURCE_DIR}/src)
  set(dir ${FORREALTIME_PARTS_DIR}/${target})
  set(globs ${P_UNPARSED_ARGUMENTS})
  list(TRANSFORM globs PREPEND ${root}/)
  file(GLOB headers CONFIGURE_DEPENDS RELATIVE ${root} ${globs})
  if(P_EXCLUDE)
    list(REMOVE_ITEM headers ${P_EXCLUDE})
  endif()
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  foreach(h IN LISTS headers)
    get_filename_component(d ${dir}/${h} DIRECTORY)
    file(MAKE_DIRECTORY ${d})
    file(CREATE_LINK ${root}/${h} ${dir}/${h} SYMBOLIC)
  endforeach()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE $<BUILD_INTERFACE:${dir}>)
  else()
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${dir}>)
  endif()
endfunction()
