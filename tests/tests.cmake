# Unit tests: one cmocka runner per subsystem (tests/unit/test_<subsystem>.c),
# label `unit`. HTTP tests (tests/http) talk to a function server that the
# ctest fixture `functions_server` starts and stops; label `http`.

file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
# The Kubernetes manifests' check parses YAML with libyaml (libyaml-dev,
# installed by flowgate.sh); a tree without it (the image build) skips it.
pkg_check_modules(YAML IMPORTED_TARGET yaml-0.1)
if(NOT YAML_FOUND)
  message(STATUS "libyaml not found: test_manifests is not built")
  list(FILTER UNIT_TESTS EXCLUDE REGEX ".*/test_manifests\\.c$")
endif()
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} flowgate_server flowgate_fixtures flowgate flowgate_test_internals PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit
    ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp"
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endforeach()

if(YAML_FOUND)
  target_link_libraries(test_manifests PkgConfig::YAML)
endif()
# The A/B gate's error rates by simulation of the shipped procedure
# (test_ab_sim.c): under the sanitizers (label unit) 1 000 runs a case, to
# check the code; in the Release tree 10 000 runs a case (label gate, with
# the other proofs that the gate decides), where the figures are the claim.
if(FLOWGATE_ASAN OR FLOWGATE_FUZZ)
  set_property(TEST test_ab_sim APPEND PROPERTY ENVIRONMENT "FLOWGATE_SIM_RUNS=1000")
else()
  add_test(NAME ab_sim_10k COMMAND test_ab_sim)
  set_tests_properties(ab_sim_10k PROPERTIES LABELS "gate;perf-smoke"
    ENVIRONMENT "FLOWGATE_SIM_RUNS=10000" TIMEOUT 900)
endif()
# The change points' power and false alarms by simulated histories
# (test_changepoint.c): 2 000 series a case as a unit test, 20 000 in the
# Release tree (label gate), where the figures are the claim.
if(NOT (FLOWGATE_ASAN OR FLOWGATE_FUZZ))
  add_test(NAME changepoint_sim COMMAND test_changepoint)
  set_tests_properties(changepoint_sim PROPERTIES LABELS "gate;perf-smoke"
    ENVIRONMENT "FLOWGATE_SIM_SERIES=20000" TIMEOUT 600)
endif()
# The flags `flowgate run` and `ab` share (--data-dir) are tested with the
# config they build; run_flags.c belongs to the tool, not the library.
target_sources(test_config PRIVATE ${CMAKE_SOURCE_DIR}/src/cli/run_flags.c)
# Every #include against the README's module graph, and proof the check
# can fail (a copy of the tree with two includes out of bounds).
add_test(NAME module_graph COMMAND ${CMAKE_SOURCE_DIR}/.ci/check-modules ${CMAKE_SOURCE_DIR})
add_test(NAME module_graph_catches
  COMMAND ${CMAKE_SOURCE_DIR}/tests/check_modules_catches.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(module_graph module_graph_catches PROPERTIES LABELS unit)
# The compose file, offline: docker-compose validates it without an engine.
add_test(NAME compose_config
  COMMAND docker-compose -f ${CMAKE_SOURCE_DIR}/fixtures/containers/compose.yaml config -q)
set_tests_properties(compose_config PROPERTIES LABELS unit)

# The history gate over synthetic histories: green flat, red on a planted
# step and a creep, inconclusive when too short; then trend chart and page.
add_test(NAME history_check
  COMMAND ${CMAKE_SOURCE_DIR}/tests/history_check.sh $<TARGET_FILE:flowgate-cli>
          ${CMAKE_BINARY_DIR}/history-check)
set_tests_properties(history_check PROPERTIES LABELS unit
  ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data")

# The server for HTTP tests: its own ports, its own endpoints file.
set(HTTP_ENDPOINTS ${CMAKE_BINARY_DIR}/http-test-endpoints.json)
add_test(NAME http_server_start
  COMMAND ${CMAKE_SOURCE_DIR}/tests/server_ctl.sh start ${CMAKE_BINARY_DIR}/http-test
          $<TARGET_FILE:flowgate-functions> --nodes ${CMAKE_SOURCE_DIR}/data/nodes.json
          --data ${CMAKE_SOURCE_DIR}/data)
add_test(NAME http_server_stop
  COMMAND ${CMAKE_SOURCE_DIR}/tests/server_ctl.sh stop ${CMAKE_BINARY_DIR}/http-test)
set_tests_properties(http_server_start PROPERTIES FIXTURES_SETUP http_server LABELS http)
set_tests_properties(http_server_stop PROPERTIES FIXTURES_CLEANUP http_server LABELS http)

file(GLOB HTTP_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/http/test_*.c)
foreach(src ${HTTP_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} flowgate_server flowgate_fixtures flowgate flowgate_test_internals PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  # The HTTP tests share one server and assert on its counters: one at a time.
  set_tests_properties(${name} PROPERTIES LABELS http FIXTURES_REQUIRED http_server
    RESOURCE_LOCK http_server
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp;FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_ENDPOINTS=${CMAKE_BINARY_DIR}/http-test/endpoints.json"
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endforeach()

if(FLOWGATE_FUZZ)
  file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
  foreach(src ${FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} flowgate_server flowgate flowgate_test_internals)
    # libFuzzer writes new inputs into the first corpus directory: keep
    # them in the build tree, read the seeds from the source tree.
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz-corpus/${name})
    add_test(NAME ${name} COMMAND ${name} -runs=100000 -max_len=65536
             ${CMAKE_BINARY_DIR}/fuzz-corpus/${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus)
    set_tests_properties(${name} PROPERTIES LABELS fuzz)
  endforeach()
endif()

# Every bad input of `flowgate run` is one line and exit 2 before anything is
# measured (tests/bad_inputs.sh); against the HTTP test server a step no node
# runs is refused after the health wait, before the first request.
add_test(NAME bad_inputs COMMAND ${CMAKE_SOURCE_DIR}/tests/bad_inputs.sh $<TARGET_FILE:flowgate-cli>)
set_tests_properties(bad_inputs PROPERTIES LABELS http FIXTURES_REQUIRED http_server
  RESOURCE_LOCK http_server
  ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp;FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_ENDPOINTS=${CMAKE_BINARY_DIR}/http-test/endpoints.json"
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR})

# The history store against a real PostgreSQL (label postgres): the fixture
# postgres_server makes a throw-away cluster in the build tree on a free
# loopback port and removes it afterwards, whatever the tests did
# (tests/pg_ctl.sh); the store's cmocka runner reads the URL from the file
# the fixture writes and runs every case of the SQLite run there.
set(PG_TEST_DIR ${CMAKE_BINARY_DIR}/pg-test)
add_test(NAME postgres_server_start COMMAND ${CMAKE_SOURCE_DIR}/tests/pg_ctl.sh start ${PG_TEST_DIR})
add_test(NAME postgres_server_stop COMMAND ${CMAKE_SOURCE_DIR}/tests/pg_ctl.sh stop ${PG_TEST_DIR})
set_tests_properties(postgres_server_start PROPERTIES FIXTURES_SETUP postgres_server LABELS postgres)
set_tests_properties(postgres_server_stop PROPERTIES FIXTURES_CLEANUP postgres_server LABELS postgres)
add_test(NAME test_history_store_pg COMMAND test_history_store)
set_tests_properties(test_history_store_pg PROPERTIES LABELS postgres
  FIXTURES_REQUIRED postgres_server
  ENVIRONMENT "FLOWGATE_TEST_HISTORY_URL_FILE=${PG_TEST_DIR}/url;LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp"
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
