#!/usr/bin/python3
"""bench/run's report: the table and the issue's ratios from the measurements, on stdout.

  report.py --results results.jsonl --meta JSON [--json FILE]

Each figure is the median over the repeats (--repeat K) of that workload and column; for the
latency, p50, p99 and max are each the median of their own values. --json writes every
measurement, the medians and the ratios.
"""
import argparse
import json
import statistics

ROWS = [  # workload, label, primary unit
    ("npy-1m", "1 MiB float32 NPY batches [256,1024]", "mib"),
    ("npy-4k", "4 KiB float32 NPY batches [1024]", "rec"),
    ("stats", "pre-reduced JSON stats {min, max}", "rec"),
    ("per-channel", "[64,1024] float32 per-channel, ch_axis 1 (256 KiB)", "mib"),
]
COLUMNS = [("broker", "broker consumer"), ("python", "Python peer"), ("p1", "qparams p=1"), ("p2", "qparams p=2")]
# name, workload, numerator column, denominator column, unit, target (ratio >= target)
RATIOS = [
    ("1 MiB batches: qparams / broker consumer, MiB/s", "npy-1m", "broker", "mib_s", 0.8),
    ("4 KiB batches: qparams / Python peer, rec/s", "npy-4k", "python", "rec_s", 10.0),
    ("JSON stats: qparams / Python peer, rec/s", "stats", "python", "rec_s", 10.0),
    ("per-channel: qparams / broker consumer, MiB/s", "per-channel", "broker", "mib_s", 0.5),
]
STEADY = [  # workload, label: p=1 against p=2 once warm (bench/run's steady-* workloads)
    ("steady-4k", "4 KiB float32 NPY batches [1024]"),
    ("steady-stats", "pre-reduced JSON stats {min, max}"),
]
LATENCY_P99_TARGET_MS = 50
LARGE_STATE_TARGET = 0.5  # "throughput within 2x of the same load over 100 tensors"


def median(values):
    return statistics.median(values) if values else None


def cell(m, unit):
    if m is None:
        return "-"
    rec, mib = f"{m['rec_s']:,.0f} rec/s", f"{m['mib_s']:,.1f} MiB/s"
    return f"{mib} ({rec})" if unit == "mib" else f"{rec} ({mib})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--json")
    a = ap.parse_args()
    meta = json.loads(a.meta)
    with open(a.results) as f:
        measurements = [json.loads(line) for line in f if line.strip()]

    medians = {}
    for m in measurements:
        medians.setdefault(m["workload"], {}).setdefault(m["column"], []).append(m)
    for w, columns in medians.items():
        for c, ms in columns.items():
            keys = ["rec_s", "mib_s", "seconds", "records", "steady_rec_s", "cpu_us_per_record", "checkpoints",
                    "checkpoint_bytes", "checkpoint_ms", "checkpoint_max_ms"] if w != "latency" else \
                ["p50_ms", "p99_ms", "max_ms", "records", "rate", "achieved_rate"]
            columns[c] = {k: median([x[k] for x in ms if x.get(k) is not None]) for k in keys} | {"repeats": len(ms)}
            by_thread = [x["cpu_us_per_record_by_thread"] for x in ms if x.get("cpu_us_per_record_by_thread")]
            if by_thread:
                columns[c]["cpu_us_per_record_by_thread"] = {
                    k: median([b.get(k, 0.0) for b in by_thread]) for k in sorted(set().union(*by_thread))}

    print()
    print(f"qparams end to end ({meta['mode']} run, median of {meta['repeat']}; {meta['nproc']} cores, "
          f"load average {meta['load_before']} before, {meta['load_after']} after; commit {meta['commit']}; "
          f"{meta['seconds']} s)")
    # Only the load before the run tells about other work: during it, the run itself keeps 2 cores busy.
    before = float(meta["load_before"].split()[0])
    if before > meta["nproc"]:
        print(f"WARNING: a load average of {before:g} on {meta['nproc']} cores before the run: other work shared "
              "the CPUs, these figures are noise (compare runs on a quiet machine only)")
    rows = [row for row in ROWS if row[0] in medians]
    widths = [52, 28, 28, 28, 28]
    header = ["workload (4 partitions, 50 tensors)"] + [label for _, label in COLUMNS]
    if rows:
        print()
        print("| " + " | ".join(h.ljust(wd) for h, wd in zip(header, widths)) + " |")
        print("|" + "|".join("-" * (wd + 2) for wd in widths) + "|")
    for w, label, unit in rows:
        cells = [label] + [cell(medians[w].get(c), unit) for c, _ in COLUMNS]
        print("| " + " | ".join(x.ljust(wd) for x, wd in zip(cells, widths)) + " |")
    if rows:
        print()
    if rows:
        print("CPU time per record, microseconds (the process's user + system time over the measured span, all its")
        print("threads; the broker's share not counted; less sensitive to other load than the throughput):")
        for w, label, _ in rows:
            figures = [f"{name} {medians[w][c]['cpu_us_per_record']:,.0f}" for c, name in
                       (("python", "Python peer"), ("p1", "qparams p=1"), ("p2", "qparams p=2"))
                       if medians[w].get(c, {}).get("cpu_us_per_record") is not None]
            print(f"  {w}: " + ", ".join(figures))
        print("  the qparams columns by kind of thread (bench/topics.py thread_kind: the job's tasks, the Kafka")
        print("  clients' threads, the JIT compilers, the garbage collector, the rest of Flink's runtime):")
        for w, label, _ in rows:
            for c, name in (("p1", "qparams p=1"), ("p2", "qparams p=2")):
                kinds = medians[w].get(c, {}).get("cpu_us_per_record_by_thread")
                if kinds:
                    print(f"    {w} {name}: " + ", ".join(f"{k} {v:,.1f}" for k, v in
                                                       sorted(kinds.items(), key=lambda kv: -kv[1])))
        print()
    for w, _, _ in ROWS:
        if w in medians and w in meta["topics"]:
            t = meta["topics"][w]
            peer = medians[w].get("python", {}).get("records")
            print(f"  {w}: {t['records']:,} records, {t['bytes'] / 2**20:,.0f} MiB (key + value, "
                  f"{t['bytes_per_record']:,.0f} bytes a record); Python peer on the first {peer:,.0f} of them"
                  if peer else f"  {w}: {t['records']:,} records, {t['bytes'] / 2**20:,.0f} MiB")

    ratios = []
    for name, w, denominator, unit, target in RATIOS:
        for p in ("p1", "p2"):
            num, den = medians.get(w, {}).get(p), medians.get(w, {}).get(denominator)
            if num and den:
                value = num[unit] / den[unit]
                ratios.append({"name": f"{name} (p={p[1]})", "workload": w, "value": value,
                               "target": f">= {target:g}x", "met": value >= target})
    # p=2 against p=1: judged on the steady rates when the steady-* workloads ran (the spans above
    # are mostly JIT warm-up for small records), else on the spans.
    steady_measured = any(w in medians for w, _ in STEADY)
    for w, _, _ in ROWS:
        p1, p2 = medians.get(w, {}).get("p1"), medians.get(w, {}).get("p2")
        if p1 and p2:
            value = p2["rec_s"] / p1["rec_s"]
            judged = not steady_measured or w in ("npy-1m", "per-channel")
            ratios.append({"name": f"{w}: qparams p=2 / p=1, rec/s" + ("" if judged else " (span, warming up)"),
                           "workload": w, "value": value, "target": ">= 1x", "met": value >= 1.0 if judged else None})
    for w, label in STEADY:
        pairs = {}
        for m in measurements:
            if m["workload"] == w and m["column"] in ("p1", "p2") and m.get("steady_rec_s"):
                pairs.setdefault(m["repeat"], {})[m["column"]] = m["steady_rec_s"]
        pair_ratios = [p["p2"] / p["p1"] for _, p in sorted(pairs.items()) if "p1" in p and "p2" in p]
        if not pair_ratios:
            continue
        value = median(pair_ratios)
        t = meta["topics"].get(w)
        print()
        print(f"steady state, {label} ({w}"
              + (f", {t['records']:,} records, {t['bytes'] / 2**20:,.0f} MiB" if t else "")
              + "; median records/s over whole seconds between 30 % and 95 % of the output):")
        print(f"  qparams p=1 {medians[w]['p1']['steady_rec_s']:,.0f} rec/s, p=2 {medians[w]['p2']['steady_rec_s']:,.0f}"
              f" rec/s (over the whole span {medians[w]['p1']['rec_s']:,.0f} and {medians[w]['p2']['rec_s']:,.0f});"
              " p=2 / p=1 per pair (order alternating): " + ", ".join(f"{r:.2f}" for r in pair_ratios))
        for c, name in (("p1", "p=1"), ("p2", "p=2")):
            kinds = medians[w][c].get("cpu_us_per_record_by_thread")
            if kinds:
                print(f"  CPU µs per record over the span, {name}: {medians[w][c]['cpu_us_per_record']:,.1f} = "
                      + ", ".join(f"{k} {v:,.1f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
        # "Not slower": met when the median pair is not below 1; when it is below 1 but within 5 %
        # and some pair had p=2 ahead, these pairs cannot tell the two apart ("level").
        verdict = True if value >= 1.0 else "level" if value >= 0.95 and max(pair_ratios) >= 1.0 else False
        ratios.append({"name": f"{w}: qparams p=2 / p=1, steady rec/s (median of {len(pair_ratios)} pairs)",
                       "workload": w, "value": value, "target": ">= 1x", "met": verdict})
    lat = medians.get("latency", {})
    for column, m in lat.items():
        ratios.append({"name": f"latency at {m['achieved_rate']:,.0f} rec/s of 4 KiB batches, qparams "
                               f"p={column[1]}, at-least-once: p99 ms",
                       "workload": "latency", "value": m["p99_ms"], "target": f"< {LATENCY_P99_TARGET_MS} ms",
                       "met": m["p99_ms"] < LATENCY_P99_TARGET_MS})

    big = medians.get("large-state", {})
    if big:
        small_key = "tensors-100"
        large_key = next((c for c in big if c != small_key), None)
        print()
        cells = [f"{c[len('tensors-'):]} tensors {big[c]['rec_s']:,.0f} rec/s ({big[c]['mib_s']:,.1f} MiB/s)"
                 for c in (small_key, large_key) if c in big]
        print(f"large state, qparams p=2 on RocksDB, -Xmx{meta.get('large_state_heap', '?')}, [4,1024] float32 "
              "per-channel ch_axis 1 batches: " + ", ".join(cells))
        for c in (small_key, large_key):
            m = big.get(c)
            if m and m.get("checkpoints"):
                print(f"  {c[len('tensors-'):]} tensors: {m['checkpoints']:.0f} checkpoints during the run, the last "
                      f"{m['checkpoint_bytes'] / 2**20:,.1f} MiB in {m['checkpoint_ms']:,.0f} ms "
                      f"(longest {m['checkpoint_max_ms']:,.0f} ms)")
            elif m:
                print(f"  {c[len('tensors-'):]} tensors: no checkpoint completed during the run")
        if small_key in big and large_key in big:
            value = big[large_key]["rec_s"] / big[small_key]["rec_s"]
            ratios.append({"name": f"large state: {large_key[len('tensors-'):]} tensors / 100 tensors, rec/s",
                           "workload": "large-state", "value": value, "target": f">= {LARGE_STATE_TARGET:g}x",
                           "met": value >= LARGE_STATE_TARGET})
    if lat:
        print()
        for column, m in lat.items():
            print(f"latency, qparams p={column[1]}, steady {m['achieved_rate']:,.0f} records/s of 4 KiB batches, "
                  f"at-least-once (output LogAppendTime - input CreateTime, {m['records']:,.0f} records): "
                  f"p50 {m['p50_ms']:.0f} ms, p99 {m['p99_ms']:.0f} ms, max {m['max_ms']:.0f} ms")
            if m["achieved_rate"] < 0.95 * m["rate"]:
                print(f"  (the producer kept only {m['achieved_rate']:,.0f} of {m['rate']:,.0f} records/s: "
                      "the machine is too busy for this figure)")
    if ratios:
        print()
        width = max(len(r["name"]) for r in ratios)
        print(f"{'target'.ljust(width)}  {'measured':>9}  {'target':>9}  verdict")
        for r in ratios:
            value = f"{r['value']:.0f} ms" if r["workload"] == "latency" else f"{r['value']:.2f}x"
            verdict = "-" if r["met"] is None else "level (within the pairs' spread)" if r["met"] == "level" \
                else "met" if r["met"] else "NOT MET"
            print(f"{r['name'].ljust(width)}  {value:>9}  {r['target']:>9}  {verdict}")
    print()

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "medians": medians, "ratios": ratios, "measurements": measurements}, f,
                      indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
