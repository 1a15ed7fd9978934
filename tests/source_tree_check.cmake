# cmake -DSOURCE_DIR=<checkout> -P tests/source_tree_check.cmake
#
# The layering of docs/ARCHITECTURE.md, checked from the #include lines of
# every source file: each layer may include only itself and the layers
# below it, and the libraries that set a layer apart stay in it (gRPC and
# the generated messages above deconfliction/ and outside storage/, RocksDB
# in storage/ only, HTTP in gui/ only, CLI11 in the command lines only).
# And every .cc file is in a build list: its stem appears in the
# CMakeLists.txt (or a *.cmake file) of the nearest directory that has one,
# so a file left out of a list fails here instead of silently not being
# built. Prints every violation and fails if there is one.
#
#   cli ──► gui ──► views ──► core ──► deconfliction ──► tlog ──► crypto
#   parley-verify (client/verify_main.cc) ──► deconfliction, tlog, crypto
#   server ──► storage ──► tlog ──► crypto

cmake_minimum_required(VERSION 3.25)

# Layer of a path relative to the checkout; most specific prefix first.
set(prefixes
  "client/deconfliction/" "client/core/" "client/views/" "client/gui/"
  "client/cli/" "client/verify_main.cc" "storage/tlog/" "storage/"
  "server/" "crypto/")
set(layers
  deconfliction core views gui cli verify tlog storage server crypto)

# What each layer may include: our layers and "proto" (parley/v1/*).
set(allow_crypto crypto)
set(allow_tlog tlog crypto)
set(allow_storage storage tlog crypto)
set(allow_server server storage tlog crypto proto)
set(allow_deconfliction deconfliction tlog crypto)
set(allow_verify deconfliction tlog crypto)
set(allow_core core deconfliction tlog crypto proto)
set(allow_views views core deconfliction tlog crypto proto)
set(allow_gui gui views core deconfliction tlog crypto proto)
set(allow_cli cli gui views core deconfliction tlog crypto proto)

# Third-party headers that belong to a few layers only: a regex on the
# included path, then the layers that may include it (comma-separated).
set(external_rules
  "^grpcpp/|\\.grpc\\.pb\\.h$|^grpc/"  "server,core,views,gui,cli"
  "^rocksdb/"                          "storage"
  "^httplib\\.h$"                      "gui"
  "^CLI/"                              "server,cli,verify")

function(layer_of path out)
  set(result "")
  list(LENGTH prefixes n)
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    list(GET prefixes ${i} prefix)
    string(FIND "${path}" "${prefix}" at)
    if(at EQUAL 0)
      list(GET layers ${i} result)
      break()
    endif()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE sources RELATIVE "${SOURCE_DIR}"
  "${SOURCE_DIR}/crypto/*.h" "${SOURCE_DIR}/crypto/*.cc"
  "${SOURCE_DIR}/storage/*.h" "${SOURCE_DIR}/storage/*.cc"
  "${SOURCE_DIR}/server/*.h" "${SOURCE_DIR}/server/*.cc"
  "${SOURCE_DIR}/client/*.h" "${SOURCE_DIR}/client/*.cc")
set(violations 0)
set(checked 0)
foreach(source IN LISTS sources)
  layer_of("${source}" from)
  if(from STREQUAL "")
    message(SEND_ERROR "${source}: in no layer; add it to layering_check.cmake")
    math(EXPR violations "${violations} + 1")
    continue()
  endif()
  file(STRINGS "${SOURCE_DIR}/${source}" includes
       REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]([^\">]+)[\">].*"
                         "\\1" header "${line}")
    math(EXPR checked "${checked} + 1")
    if(header MATCHES "^parley/v1/")
      set(to proto)
    else()
      layer_of("${header}" to)
    endif()
    if(NOT to STREQUAL "")
      if(NOT to IN_LIST allow_${from})
        message(SEND_ERROR "${source} (${from}) includes ${header} (${to}): "
                           "${from} may include only ${allow_${from}}")
        math(EXPR violations "${violations} + 1")
      endif()
      continue()
    endif()
    list(LENGTH external_rules n)
    math(EXPR last "${n} - 1")
    foreach(i RANGE 0 ${last} 2)
      list(GET external_rules ${i} pattern)
      math(EXPR j "${i} + 1")
      list(GET external_rules ${j} owners)
      string(REPLACE "," ";" owners "${owners}")
      if(header MATCHES "${pattern}" AND NOT from IN_LIST owners)
        message(SEND_ERROR "${source} (${from}) includes ${header}: only "
                           "${owners} may")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
# Every .cc in a build list.
file(GLOB_RECURSE built RELATIVE "${SOURCE_DIR}"
  "${SOURCE_DIR}/crypto/*.cc" "${SOURCE_DIR}/storage/*.cc"
  "${SOURCE_DIR}/server/*.cc" "${SOURCE_DIR}/client/*.cc"
  "${SOURCE_DIR}/tests/*.cc")
foreach(source IN LISTS built)
  get_filename_component(dir "${source}" DIRECTORY)
  get_filename_component(stem "${source}" NAME_WE)
  while(NOT EXISTS "${SOURCE_DIR}/${dir}/CMakeLists.txt" AND NOT dir STREQUAL "")
    get_filename_component(dir "${dir}" DIRECTORY)
  endwhile()
  file(GLOB lists "${SOURCE_DIR}/${dir}/CMakeLists.txt"
                  "${SOURCE_DIR}/${dir}/*.cmake")
  # A fuzz target is listed by its name: parley_fuzzer(envelope ...).
  string(REGEX REPLACE "_fuzzer$" "" stem "${stem}")
  set(found FALSE)
  foreach(list_file IN LISTS lists)
    file(READ "${list_file}" text)
    string(FIND "${text}" "${stem}" at)
    if(NOT at EQUAL -1)
      set(found TRUE)
      break()
    endif()
  endforeach()
  if(NOT found)
    message(SEND_ERROR "${source} is in no build list of ${dir}/")
    math(EXPR violations "${violations} + 1")
  endif()
endforeach()

list(LENGTH sources files)
list(LENGTH built built_count)
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} layering violation(s)")
endif()
message(STATUS "layering: ${files} files, ${checked} includes, no "
               "violation; ${built_count} .cc files, each in a build list")
