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
# A/B regression gate (ab_gate: HEAD's server and data files against the
# previous commit's, on the `gate` category's 3 cells) and the
# proofs that the gates decide (gate_goes_red, ab_aa_passes,
# ab_slowdown_fails, ab_missing_cells_fail).

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
  # Exit 3: a cell the machine's contention left inconclusive (README,
  # Contention) shows as skipped, as for the A/B gate below.
  set_tests_properties(suite_${cat} PROPERTIES
    SKIP_RETURN_CODE 3
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

# The shipped thresholds catch a 2x slowdown (the server's knob) of the
# smoke cell: `flowgate run smoke` against a 2x nodes file must fail on p50.
add_test(NAME thresholds_catch_2x
  COMMAND ${CMAKE_SOURCE_DIR}/suites/thresholds_catch_2x.sh ${CMAKE_BINARY_DIR}/catch-2x
          $<TARGET_FILE:flowgate-cli> ${CMAKE_SOURCE_DIR}/data)
set_tests_properties(thresholds_catch_2x PROPERTIES
  LABELS "gate;perf-smoke"
  SKIP_RETURN_CODE 77
  RUN_SERIAL TRUE
  TIMEOUT 300
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_ENDPOINTS=;FLOWGATE_CONFIG=")

# The A/B gates (`flowgate ab`, src/run/ab_sides.c). Each starts its own
# servers (two per run, separate processes), so none needs perf_server;
# RUN_SERIAL because they measure. Budgets keep the whole CI run (2 cores)
# well under 20 minutes: a smoke pair takes ~10 s, so 120 s holds the 3 pairs
# a proof's verdict needs. ab_gate runs the gate category (0.1 MB c1, 1 MB c5,
# 2 MB c10 at standard request counts): one side's 3 cells took 10-16 s on
# the 2-core machine (shared), a pair ~22 s, so 210 s holds the looks at 3,
# 5 and 8 pairs and the test stays within ~240 s.
set(AB_ENV
  "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data"
  "FLOWGATE_BIN=${CMAKE_BINARY_DIR}"
  "FLOWGATE_ENDPOINTS="
  "FLOWGATE_CONFIG="
  "FLOWGATE_SCHEDULERS=ours"
  "FLOWGATE_REQUEST_SCALE=1")
set(AB_GATE_BUDGET 210 CACHE STRING "Seconds the CI A/B gate (ab_gate) may run")
set(AB_PROOF_BUDGET 120 CACHE STRING "Seconds each A/B proof test may run")
add_executable(suite_drop_cells ${CMAKE_SOURCE_DIR}/suites/drop_cells.c)
target_link_libraries(suite_drop_cells flowgate)

# The regression gate of this repository's CI: HEAD's function server and
# data files (B) against the previous commit's (A: --a-server, --a-data),
# built and extracted by the fixture ab_prev_server (suites/prev_server.sh
# says why a fixture and what happens without a previous commit; the command
# is in suites/ab_gate.sh). Its verdict goes to results/ab-<id>/ with the
# others.
set(AB_PREV_DIR ${CMAKE_BINARY_DIR}/build-prev)
add_test(NAME ab_prev_server
  COMMAND ${CMAKE_SOURCE_DIR}/suites/prev_server.sh ${CMAKE_SOURCE_DIR} ${AB_PREV_DIR}
          $<TARGET_FILE:flowgate-functions> ${CMAKE_BUILD_TYPE})
set_tests_properties(ab_prev_server PROPERTIES FIXTURES_SETUP ab_prev LABELS "perf;gate"
  TIMEOUT 900)
add_test(NAME ab_gate
  COMMAND ${CMAKE_SOURCE_DIR}/suites/ab_gate.sh $<TARGET_FILE:flowgate-cli> ${AB_PREV_DIR}
          $<TARGET_FILE:flowgate-functions> ${PERF_RESULTS} ${AB_GATE_BUDGET})
# Exit 3, inconclusive (the budget ran out before every cell was shown
# inside its margin, or the machine was too noisy to tell), shows as
# skipped, not passed and not failed: this repository's CI runs on a
# shared 2-core machine, so "can't tell here" is an answer it must be able
# to give without rejecting the change; the log carries the verdict. A user
# who wants it to fail keeps ctest's default (drop SKIP_RETURN_CODE).
set_tests_properties(ab_gate PROPERTIES
  LABELS "perf;gate"
  FIXTURES_REQUIRED ab_prev
  SKIP_RETURN_CODE 3
  RUN_SERIAL TRUE
  TIMEOUT 300
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "${AB_ENV}")

# Proofs that the A/B gate decides. A/A: two separate servers of the same
# binary and nodes file must not be red (no regression; inconclusive is
# skipped, as for ab_gate).
add_test(NAME ab_aa_passes
  COMMAND $<TARGET_FILE:flowgate-cli> ab smoke --budget ${AB_PROOF_BUDGET}
          --results-dir ${CMAKE_BINARY_DIR}/ab-aa
          --thresholds ${CMAKE_SOURCE_DIR}/suites/ab_relative_lenient.json)
# A 1.5x slowdown of B (the server's known-effect knob) must fail the gate
# as a regression of the smoke cell.
add_test(NAME ab_slowdown_fails
  COMMAND ${CMAKE_SOURCE_DIR}/suites/ab_slowdown.sh ${CMAKE_BINARY_DIR}/ab-slowdown
          $<TARGET_FILE:flowgate-cli> ${AB_PROOF_BUDGET}
          ${CMAKE_SOURCE_DIR}/suites/ab_relative_tight.json)
# A regression names its culprit: B's recognizer__extract 1.5x as slow
# (the per-function knob) must fail the gate with that function named
# first.
add_test(NAME ab_culprit
  COMMAND ${CMAKE_SOURCE_DIR}/suites/ab_culprit.sh ${CMAKE_BINARY_DIR}/ab-culprit
          $<TARGET_FILE:flowgate-cli> ${CMAKE_SOURCE_DIR}/data ${AB_PROOF_BUDGET})
# Cells on one side only (a real results file with cells removed) fail
# `flowgate compare`, one line each.
add_test(NAME ab_missing_cells_fail
  COMMAND ${CMAKE_SOURCE_DIR}/suites/ab_missing_cells.sh ${CMAKE_BINARY_DIR}/ab-missing
          $<TARGET_FILE:flowgate-cli> $<TARGET_FILE:suite_drop_cells>)
set_tests_properties(ab_aa_passes ab_culprit PROPERTIES SKIP_RETURN_CODE 3)
set_tests_properties(ab_aa_passes ab_slowdown_fails ab_culprit ab_missing_cells_fail PROPERTIES
  LABELS "gate;perf-smoke"
  RUN_SERIAL TRUE
  TIMEOUT 600
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "${AB_ENV}")

# The suites against the node set as Docker containers (label `docker`):
# the fixture docker_cluster starts a project-owned Docker engine when none
# answers, builds the functions image (cached by source hash), brings one
# container per node up (`flowgate cluster up`, id "ctest") and checks it;
# its cleanup removes the containers and stops the engine it started
# (fixtures/containers/ctest.sh). The suites' own setup checks the
# containers again (fixture.c). Thresholds: fixtures/containers/thresholds.json,
# measured against the containers (their CPU caps make them slower than the
# embedded server).
set(DOCKER_CTL ${CMAKE_SOURCE_DIR}/fixtures/containers/ctest.sh)
# Config paths are taken from the working directory: write an absolute one.
file(WRITE ${CMAKE_BINARY_DIR}/docker-suite.json
  "{\"thresholds\": \"${CMAKE_SOURCE_DIR}/fixtures/containers/thresholds.json\"}\n")
add_test(NAME docker_cluster_up
  COMMAND ${DOCKER_CTL} setup ${CMAKE_BINARY_DIR} $<TARGET_FILE:flowgate-cli>)
add_test(NAME docker_cluster_down
  COMMAND ${DOCKER_CTL} cleanup ${CMAKE_BINARY_DIR} $<TARGET_FILE:flowgate-cli>)
set_tests_properties(docker_cluster_up PROPERTIES FIXTURES_SETUP docker_cluster
  LABELS docker TIMEOUT 1800 RUN_SERIAL TRUE)
set_tests_properties(docker_cluster_down PROPERTIES FIXTURES_CLEANUP docker_cluster
  LABELS docker TIMEOUT 900)
foreach(cat smoke standard)
  add_test(NAME docker_${cat}
    COMMAND ${DOCKER_CTL} run ${CMAKE_BINARY_DIR} $<TARGET_FILE:flowgate-suite> ${cat})
  set_tests_properties(docker_${cat} PROPERTIES
    SKIP_RETURN_CODE 3
    LABELS "docker"
    FIXTURES_REQUIRED docker_cluster
    RUN_SERIAL TRUE
    TIMEOUT ${PERF_TIMEOUT_${cat}}
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    ENVIRONMENT "${PERF_ENV};FLOWGATE_CONFIG=${CMAKE_BINARY_DIR}/docker-suite.json;CMOCKA_MESSAGE_OUTPUT=xml;CMOCKA_XML_FILE=${PERF_RESULTS}/junit/docker_${cat}.xml")
endforeach()

# The scenarios on the containers (CI scale, as suite_scenarios): each
# cell's network set on the running nodes (PUT /link), Vary-Input network-
# bound and Vary-Concurrency compute-bound there too, and the nodes' links
# as they were afterwards (suites/cluster_scenarios.sh). Own results dir:
# the embedded run's scenario results stay apart.
add_test(NAME docker_scenarios
  COMMAND ${DOCKER_CTL} run ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}/suites/cluster_scenarios.sh
          ${PERF_RESULTS}/docker $<TARGET_FILE:flowgate-suite> $<TARGET_FILE:suite_bottleneck_check>)
set_tests_properties(docker_scenarios PROPERTIES
  SKIP_RETURN_CODE 3
  LABELS "docker"
  FIXTURES_REQUIRED docker_cluster
  RUN_SERIAL TRUE
  TIMEOUT 900
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "${PERF_ENV};FLOWGATE_CONFIG=${CMAKE_BINARY_DIR}/docker-suite.json;FLOWGATE_SCHEDULERS=;FLOWGATE_REPLICATES=;CMOCKA_MESSAGE_OUTPUT=xml;CMOCKA_XML_FILE=${PERF_RESULTS}/junit/docker_scenarios.xml")

# Many drivers on a real distributed engine: compose.yaml as a swarm stack,
# two flowgate drivers as one replicated service, each its segment of one
# open-loop schedule, merged and checked against it (fixtures/containers/
# swarm.sh; it starts, joins and stops only what it needs). Outside the
# docker_cluster fixture and after it: the stack's ports 18100-18103 are
# the ones that fixture's containers hold.
add_test(NAME docker_swarm
  COMMAND ${CMAKE_SOURCE_DIR}/fixtures/containers/swarm.sh ${CMAKE_BINARY_DIR} $<TARGET_FILE:flowgate-cli>)
set_tests_properties(docker_swarm PROPERTIES
  SKIP_RETURN_CODE 3
  LABELS "docker"
  DEPENDS docker_cluster_down
  RUN_SERIAL TRUE
  TIMEOUT 1200
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR})

# A deployment shaped like the reference system's (one container per
# function, their error convention and unix-second timestamps), driven in
# "functions" mode; the timelines must read the seconds right.
add_executable(suite_reference_check ${CMAKE_SOURCE_DIR}/suites/reference_check.c)
target_link_libraries(suite_reference_check flowgate)
add_test(NAME reference_containers
  COMMAND ${CMAKE_SOURCE_DIR}/suites/reference_containers.sh ${CMAKE_BINARY_DIR}/reference-containers
          $<TARGET_FILE:flowgate-cli> $<TARGET_FILE:flowgate-functions>
          $<TARGET_FILE:suite_reference_check> ${CMAKE_SOURCE_DIR}/data)
set_tests_properties(reference_containers PROPERTIES
  LABELS "perf;perf-smoke"
  RUN_SERIAL TRUE
  TIMEOUT 300
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_ENDPOINTS=;FLOWGATE_CONFIG=")

# Workflows other than the recognizer run end to end in CI: the text-only
# one (translate -> censor, JSON-file input) and a one-function one
# (translate alone, inline JSON: one endpoint load-tested as wrk would).
# `flowgate run` starts its own embedded server on 127.0.0.1.
foreach(wf text:json_file single:json)
  string(REPLACE ":" ";" parts ${wf})
  list(GET parts 0 wf_name)
  list(GET parts 1 wf_kind)
  add_test(NAME workflow_${wf_name}
    COMMAND ${CMAKE_SOURCE_DIR}/suites/workflow_run.sh ${CMAKE_BINARY_DIR}/workflow-${wf_name}
            $<TARGET_FILE:flowgate-cli> ${CMAKE_SOURCE_DIR}/data/workflows/${wf_name}.json
            ${wf_name} ${wf_kind})
  set_tests_properties(workflow_${wf_name} PROPERTIES
    LABELS "workflow;perf-smoke"
    RUN_SERIAL TRUE
    TIMEOUT 120
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR}")
endforeach()

# `flowgate check` on the recognizer: each of its functions once on each
# embedded node, fed the workflow's own data (probe.c), must all work.
add_test(NAME workflow_check_recognizer COMMAND $<TARGET_FILE:flowgate-cli> check)
set_tests_properties(workflow_check_recognizer PROPERTIES
  LABELS "workflow;perf-smoke"
  RUN_SERIAL TRUE
  TIMEOUT 120
  PASS_REGULAR_EXPRESSION "every function works on every node"
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_ENDPOINTS=")

# `flowgate calibrate` on the text workflow: its functions measured on each
# node from the workflow file alone, and a calibration profile written with both.
add_test(NAME workflow_calibrate_text
  COMMAND sh -c "'$<TARGET_FILE:flowgate-cli>' calibrate --workflow '${CMAKE_SOURCE_DIR}/data/workflows/text.json' --reps 2 --out '${CMAKE_BINARY_DIR}/workflow-calibrate/text.json' && grep -q '\"recognizer__translate\"' '${CMAKE_BINARY_DIR}/workflow-calibrate/text.json' && grep -q '\"recognizer__censor\"' '${CMAKE_BINARY_DIR}/workflow-calibrate/text.json'")
set_tests_properties(workflow_calibrate_text PROPERTIES
  LABELS "workflow;perf-smoke"
  RUN_SERIAL TRUE
  TIMEOUT 120
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "FLOWGATE_DATA=${CMAKE_SOURCE_DIR}/data;FLOWGATE_BIN=${CMAKE_BINARY_DIR};FLOWGATE_ENDPOINTS=")

# The scenario experiments (data/scenarios.json) as one cmocka group, scaled
# down by the file's "ci" block (--ci: fewer requests, a short warm-up cap,
# one replicate, `ours`) so all eight run in a few minutes on 2 cores. Rates,
# in-flight caps and network conditions stay as the file says. The suite
# starts its own server (FLOWGATE_ENDPOINTS empty) and sets each cell's
# network on it (PUT /link), so it needs no perf_server; --override: a ctest run measures, never keeps
# old cells. The full set: `flowgate run scenarios` (README "Scenarios").
add_test(NAME suite_scenarios COMMAND flowgate-suite scenarios --ci --override)
set_tests_properties(suite_scenarios PROPERTIES
  SKIP_RETURN_CODE 3
  LABELS "scenarios"
  RUN_SERIAL TRUE
  TIMEOUT 900
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  ENVIRONMENT "${PERF_ENV};FLOWGATE_ENDPOINTS=;FLOWGATE_CONFIG=;FLOWGATE_SCHEDULERS=;FLOWGATE_REPLICATES=;CMOCKA_MESSAGE_OUTPUT=xml;CMOCKA_XML_FILE=${PERF_RESULTS}/junit/scenarios.xml")

# The bottleneck attribution on two scenarios whose bottleneck is known:
# Vary-Input (inline, 50 Mbit/s) network-bound, Vary-Concurrency compute or
# queue-bound, checked in the results suite_scenarios wrote
# (suites/scenario_bottlenecks.sh).
add_executable(suite_bottleneck_check ${CMAKE_SOURCE_DIR}/suites/bottleneck_check.c)
target_link_libraries(suite_bottleneck_check flowgate)
add_test(NAME scenario_bottlenecks
  COMMAND ${CMAKE_SOURCE_DIR}/suites/scenario_bottlenecks.sh ${PERF_RESULTS}
          $<TARGET_FILE:suite_bottleneck_check>)
set_tests_properties(scenario_bottlenecks PROPERTIES
  LABELS "scenarios"
  FIXTURES_REQUIRED scenarios_run
  TIMEOUT 60)
set_tests_properties(suite_scenarios PROPERTIES FIXTURES_SETUP scenarios_run)
