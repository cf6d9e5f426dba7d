#!/usr/bin/env python3
"""gate_power_rows.py — the JSON side of bench/bench_gate_power.sh.

  profile BASE ROW BUSY_NODE   print ROW's B nodes file: BASE (data/nodes.json)
                               with one realistic change (ROWS below), said in
                               its "_comment"; BUSY_NODE is the baseline's
                               busiest node (node_1_3, worker_fewer)
  change BASE ROW BUSY_NODE    print the one-line description of ROW's change
  busiest RESULTS.json...      the node with the most invocations summed over
                               every experiment of the files (the baseline's
                               busiest node)
  trial VERDICT.json           one TSV fragment from a verdict: outcome, pairs,
                               elapsed_s, stopped, shift (geometric mean over
                               cells of the B/A centre ratio), culprit
                               ("function part" of functions[0] of the first
                               regressed cell), critical-path part (of
                               critical_path[0] of that cell); "-" when absent
  rows                         the known rows
"""
import json
import math
import sys

# Row -> what it changes ({busy}: the baseline's busiest node). aa_* and plus10_noisy
# differ from their quiet twins only by the busy loop the shell starts.
ROWS = {
    "aa_quiet": "none (A/A)",
    "aa_noisy": "none (A/A), busy loop",
    "aa_noisy2": "none (A/A), two busy loops",
    "every_fn_10": 'top "slowdown": {"*": 1.1}',
    "plus10_noisy": 'top "slowdown": {"*": 1.1}, busy loop',
    "extract_1_2": 'top "slowdown": {"recognizer__extract": 1.2}',
    "adult_1_5": 'top "slowdown": {"recognizer__adult": 1.5}',
    "node_1_3": '{busy} "slowdown": 1.3',
    "latency_1ms": 'every node "latency_ms" + 1',
    "worker_fewer": '{busy} "workers" {w0} -> {w1}',
    "tail_only": 'top "tail_delay": {"every": 20, "add_ms": 50}',
}


def die(msg):
    print("gate_power_rows: " + msg, file=sys.stderr)
    sys.exit(2)


def node(prof, name):
    for n in prof.get("nodes", []):
        if n.get("name") == name:
            return n
    die("no node '%s' in the nodes file (nodes: %s)"
        % (name, ", ".join(str(n.get("name")) for n in prof.get("nodes", []))))


def top_slowdown(prof, factors):
    s = prof.get("slowdown")
    if isinstance(s, (int, float)):
        s = {"*": s}
    s = dict(s or {})
    s.update(factors)
    prof["slowdown"] = s


def derive(base_path, row, busy):
    if row not in ROWS:
        die("unknown row '%s' (known: %s)" % (row, ", ".join(ROWS)))
    with open(base_path) as f:
        prof = json.load(f)
    desc = ROWS[row].replace("{busy}", busy)
    if row in ("every_fn_10", "plus10_noisy"):
        top_slowdown(prof, {"*": 1.1})
    elif row == "extract_1_2":
        top_slowdown(prof, {"recognizer__extract": 1.2})
    elif row == "adult_1_5":
        top_slowdown(prof, {"recognizer__adult": 1.5})
    elif row == "node_1_3":
        node(prof, busy)["slowdown"] = 1.3
    elif row == "latency_1ms":
        for n in prof["nodes"]:
            n["latency_ms"] = round(float(n.get("latency_ms", 0)) + 1, 6)
    elif row == "worker_fewer":
        n = node(prof, busy)
        w = int(n.get("workers", 1))
        if w - 1 < 1:
            die("worker_fewer: %s has %d worker(s); one fewer is none" % (busy, w))
        n["workers"] = w - 1
        desc = desc.format(w0=w, w1=w - 1)
    elif row == "tail_only":
        prof["tail_delay"] = {"every": 20, "add_ms": 50}
    prof["_comment"] = ("bench_gate_power row %s, derived from %s: %s"
                        % (row, base_path, desc))
    return prof, desc


def busiest(paths):
    count = {}
    order = []
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        for e in d.get("experiments", []):
            for name, v in (e.get("nodes") or {}).items():
                if name not in count:
                    count[name] = 0
                    order.append(name)
                inv = v.get("invocations") if isinstance(v, dict) else None
                count[name] += inv if isinstance(inv, (int, float)) else 0
    if not order or max(count.values()) <= 0:
        die("no node invocations in %s" % " ".join(paths))
    return max(order, key=lambda n: count[n])  # first of the ties


def field(x):
    return "-" if x is None or x == "" else str(x).replace("\t", " ").replace(" ", "_")


def trial(path):
    with open(path) as f:
        v = json.load(f)
    cells = v.get("cells") or []
    logs = [math.log(r) for r in
            ((c.get("metrics") or {}).get("centre", {}).get("ratio") for c in cells)
            if isinstance(r, (int, float)) and r > 0]
    shift = "%.4f" % math.exp(sum(logs) / len(logs)) if logs else "-"
    culprit = path_part = "-"
    for c in cells:
        if c.get("verdict") != "regression":
            continue
        fns = c.get("functions") or []
        if fns:
            culprit = "%s %s" % (fns[0].get("function", "?"), fns[0].get("part", "?"))
        cp = c.get("critical_path") or []
        if cp:
            path_part = cp[0].get("part", "-")
            if cp[0].get("function"):
                path_part = cp[0]["function"] + " " + path_part
        break
    el = v.get("elapsed_s")
    return "\t".join([field(v.get("outcome")), field(v.get("pairs")),
                      "%.1f" % el if isinstance(el, (int, float)) else "-",
                      field(v.get("stopped")), shift, culprit, path_part])


def main(argv):
    if len(argv) == 4 and argv[0] in ("profile", "change"):
        prof, desc = derive(argv[1], argv[2], argv[3])
        if argv[0] == "profile":
            json.dump(prof, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            print(desc)
    elif len(argv) >= 2 and argv[0] == "busiest":
        print(busiest(argv[1:]))
    elif len(argv) == 2 and argv[0] == "trial":
        print(trial(argv[1]))
    elif len(argv) == 1 and argv[0] == "rows":
        print(" ".join(ROWS))
    else:
        die("usage: profile|change BASE ROW BUSY_NODE | busiest RESULTS... | trial VERDICT | rows")


if __name__ == "__main__":
    main(sys.argv[1:])
