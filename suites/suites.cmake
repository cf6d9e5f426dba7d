# suites.cmake — the performance suites under ctest.
#
# One cmocka runner, flowgate-suite, runs a category's cells (one cmocka
# test per cell, JUnit XML in results/junit/<category>.xml). The ctest
# fixture `perf_server` starts one function server (node mode, ephemeral
# ports) before the first suite and stops it after the last; its cleanup
# also renders the charts of every run written in this ctest session.
# `ctest -L standard` pulls the fixture in by itself (FIXTURES_REQUIRED).
# Suites run one at a time (RUN_SERIAL): they measure, so they must not
# share the machine with each other.
#
# Labels: perf + the category; the scale categories also carry `scale`
# (CI reduces their requests with FLOWGATE_REQUEST_SCALE). `gate` marks the
# regression gate and the two proofs that the gates can go red.

add_executable(flowgate-suite ${CMAKE_SOURCE_DIR}/suites/suite_main.c)
target_link_libraries(flowgate-suite flowgate_fixtures flowgate PkgConfig::CMOCKA)
add_dependencies(flowgate-suite flowgate-functions flowgate-cli)

add_executable(suite_gate_red ${CMAKE_SOURCE_DIR}/suites/gate_red.c)
target_link_libraries(suite_gate_red flowgate_fixtures flowgate PkgConfig::CMOCKA)
add_dependencies(suite_gate_red flowgate-functions flowgate-suite)

set(PERF_SERVER_DIR ${CMAKE_BINARY_DIR}/perf-server)
set(PERF_RESULTS ${CMAKE_SOURCE_DIR}/results)
set(PERF_ENV
  "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data"
  "FLOWGATE_BIN=${CMAKE_BINARY_DIR}"
  "FLOWGATE_RESULTS_DIR=${PERF_RESULTS}")

# Suites against an existing deployment (e.g. the reference containers:
# an endpoints file {"mode":"docker",...}): -DFLOWGATE_SUITE_ENDPOINTS=FILE.
# Then the fixture starts and stops nothing.
set(FLOWGATE_SUITE_ENDPOINTS "" CACHE FILEPATH
    "Endpoints file for the perf suites; empty: the ctest fixture starts flowgate-functions")

# The stamp marks the start of the session: perf_plots draws every results
# file written after it.
set(PERF_STAMP "mkdir -p '${PERF_SERVER_DIR}' && touch '${PERF_SERVER_DIR}/session.stamp'")
if(FLOWGATE_SUITE_ENDPOINTS)
  set(PERF_ENDPOINTS ${FLOWGATE_SUITE_ENDPOINTS})
  add_test(NAME perf_server_start
    COMMAND sh -c "${PERF_STAMP} && echo 'perf suites use ${FLOWGATE_SUITE_ENDPOINTS}; no server started'")
  add_test(NAME perf_server_stop COMMAND sh -c "echo 'nothing was started'")
else()
  set(PERF_ENDPOINTS ${PERF_SERVER_DIR}/endpoints.json)
  add_test(NAME perf_server_start
    COMMAND sh -c "${PERF_STAMP} && exec '${CMAKE_SOURCE_DIR}/tests/server_ctl.sh' start '${PERF_SERVER_DIR}' '$<TARGET_FILE:flowgate-functions>' --nodes '${CMAKE_SOURCE_DIR}/data/nodes.json' --data '${CMAKE_SOURCE_DIR}/data'")
  add_test(NAME perf_server_stop
    COMMAND ${CMAKE_SOURCE_DIR}/tests/server_ctl.sh stop ${PERF_SERVER_DIR})
endif()
add_test(NAME perf_plots
  COMMAND $<TARGET_FILE:flowgate-cli> plot --since ${PERF_SERVER_DIR}/session.stamp
          --results ${PERF_RESULTS} --out ${CMAKE_SOURCE_DIR}/plots)
set_tests_properties(perf_server_start PROPERTIES FIXTURES_SETUP perf_server LABELS perf
  TIMEOUT 120)
set_tests_properties(perf_server_stop perf_plots PROPERTIES FIXTURES_CLEANUP perf_server
  LABELS perf TIMEOUT 300 ENVIRONMENT "${PERF_ENV}")

# Generous timeouts: a full-size run on 2 cores. CI scales the requests down.
set(PERF_CATEGORIES smoke standard large_input high_concurrency extreme)
set(PERF_TIMEOUT_smoke 300)
set(PERF_TIMEOUT_standard 1800)
set(PERF_TIMEOUT_large_input 3600)
set(PERF_TIMEOUT_high_concurrency 3600)
set(PERF_TIMEOUT_extreme 7200)
set(PERF_SUITE_TESTS)
foreach(cat ${PERF_CATEGORIES})
  set(labels "perf;${cat}")
  if(cat STREQUAL "large_input" OR cat STREQUAL "high_concurrency" OR cat STREQUAL "extreme")
    list(APPEND labels scale)
  endif()
  add_test(NAME suite_${cat} COMMAND flowgate-suite ${cat})
  set_tests_properties(suite_${cat} PROPERTIES
    LABELS "${labels}"
    FIXTURES_REQUIRED perf_server
    RUN_SERIAL TRUE
    TIMEOUT ${PERF_TIMEOUT_${cat}}
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    ENVIRONMENT "${PERF_ENV};FLOWGATE_ENDPOINTS=${PERF_ENDPOINTS};CMOCKA_MESSAGE_OUTPUT=xml;CMOCKA_XML_FILE=${PERF_RESULTS}/junit/${cat}.xml")
  list(APPEND PERF_SUITE_TESTS suite_${cat})
endforeach()

# The threshold gate goes red: a smoke cell against an impossible
# threshold fails with the right message (and passes a lenient one).
add_test(NAME gate_goes_red COMMAND suite_gate_red)
set_tests_properties(gate_goes_red PROPERTIES
  LABELS "gate;perf-smoke"
  RUN_SERIAL TRUE
  TIMEOUT 300
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_RESULTS_DIR=${CMAKE_BINARY_DIR}/gate-red;FLOWGATE_SUITE=$<TARGET_FILE:flowgate-suite>;FLOWGATE_ENDPOINTS=;FLOWGATE_CONFIG=")

# The regression gate: newest run vs results/baseline.json (skipped without
# a baseline). Ordered after the suites when they run in the same session.
add_test(NAME regression_gate
  COMMAND ${CMAKE_SOURCE_DIR}/suites/regression_gate.sh ${PERF_RESULTS}
          $<TARGET_FILE:flowgate-suite> $<TARGET_FILE:flowgate-cli>)
set_tests_properties(regression_gate PROPERTIES
  LABELS "gate;perf"
  SKIP_RETURN_CODE 77
  DEPENDS "${PERF_SUITE_TESTS}"
  TIMEOUT 300
  ENVIRONMENT "${PERF_ENV}")

# The regression gate goes red: the same smoke cell against nodes that all
# add 250 ms of latency must be a latency regression (the script says why
# that much). The slow profile is the normal one with only latency_ms
# changed, written at configure time.
set(PERF_NODES ${CMAKE_SOURCE_DIR}/data/nodes.json)
set(PERF_SLOW_NODES ${CMAKE_BINARY_DIR}/nodes_slow.json)
file(READ ${PERF_NODES} nodes_json)
string(JSON n_nodes LENGTH "${nodes_json}" nodes)
math(EXPR last_node "${n_nodes} - 1")
foreach(i RANGE ${last_node})
  string(JSON nodes_json SET "${nodes_json}" nodes ${i} latency_ms 250)
endforeach()
file(WRITE ${PERF_SLOW_NODES} "${nodes_json}\n")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PERF_NODES})

add_test(NAME regression_gate_goes_red
  COMMAND ${CMAKE_SOURCE_DIR}/suites/regression_gate_goes_red.sh ${CMAKE_BINARY_DIR}/gate-regression
          $<TARGET_FILE:flowgate-suite> $<TARGET_FILE:flowgate-cli> ${PERF_NODES} ${PERF_SLOW_NODES})
set_tests_properties(regression_gate_goes_red PROPERTIES
  LABELS "gate;perf-smoke"
  RUN_SERIAL TRUE
  TIMEOUT 600
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_CONFIG=")
