#!/bin/sh
# history_synth.sh — writes a synthetic history: N results files of one cell,
# one run per commit, p50 = 100 ms with 2 % Gaussian noise (p95 and the
# throughput follow it), and from run STEP on the latency multiplied by
# FACTOR (STEP 0: no step); with SHAPE creep, the latency grows instead by
# FACTOR - 1 a run for 10 runs from STEP on (1.01: +1 % a commit) and stays.
# Deterministic for a given SEED, so the same history is imported every
# time (and imported twice is still one).
#
#   tests/history_synth.sh DIR N STEP FACTOR SEED [step|creep]
set -eu
dir=$1 n=$2 step=$3 factor=$4 seed=$5 shape=${6:-step}
mkdir -p "$dir"
awk -v n="$n" -v step="$step" -v factor="$factor" -v seed="$seed" -v dir="$dir" -v shape="$shape" '
function gauss(   u, v) {            # Box-Muller
    u = rand(); if (u < 1e-12) u = 1e-12
    v = rand()
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v)
}
BEGIN {
    srand(seed)
    for (i = 1; i <= n; i++) {
        level = (step > 0 && i >= step) ? factor : 1
        if (shape == "creep")
            level = step > 0 && i >= step ? 1 + (factor - 1) * (i - step + 1 < 10 ? i - step + 1 : 10) : 1
        p50 = 100 * level * (1 + 0.02 * gauss())
        commit = sprintf("%02x%06x%032x", i, seed, i)
        id = sprintf("20260101-%06d", i)
        file = sprintf("%s/experiment_results_%s.json", dir, id)
        printf "{\"schema\":\"flowgate-results/1\",\"run\":{\"id\":\"%s\",\"category\":\"synthetic\"," \
               "\"workflow\":\"recognizer\",\"started\":\"2026-01-01T00:%02d:%02d+0000\"," \
               "\"finished\":\"2026-01-01T00:%02d:%02d+0000\",\"host\":\"synth\",\"cores\":2," \
               "\"git_commit\":\"%s\",\"endpoints\":{\"mode\":\"embedded\"}," \
               "\"config\":{\"request_scale\":1},\"interrupted\":false,\"outcome\":\"pass\"}," \
               "\"experiments\":[{\"experiment_id\":\"exp_input1.0mb_conc5_ours\"," \
               "\"category\":\"synthetic\",\"repeat\":0,\"scheduler\":\"ours\",\"input_mb\":1," \
               "\"concurrency\":5,\"mode\":\"closed\",\"workflow\":\"recognizer\"," \
               "\"success_rate\":1,\"throughput_rps\":%.3f," \
               "\"latency_ms\":{\"count\":50,\"p50\":%.3f,\"p95\":%.3f}," \
               "\"requests\":{\"sent\":50,\"ok\":50},\"outcome\":\"pass\"}]}\n",
               id, int(i / 60), i % 60, int(i / 60), i % 60, commit,
               5000 / p50, p50, p50 * 1.6 > file
        close(file)
    }
}'
