#!/usr/bin/python3
"""Re-derives the drift rule (CONTRACT section 7, docs/config.md#drift) from the qparams records the
real job wrote in e2e/run-e2e.sh, independently of the Java code, and checks the records' drift
fields and the events topic against it.

  check_drift.py count --records qparams.jsonl --config e2e/observers.yaml
      prints how many drift events the records call for
  check_drift.py check --records qparams.jsonl --events events.jsonl --config e2e/observers.yaml \
      --schema-dir docs/schema
      one line per failed check, then "drift: N passed, M failed"; exit status 1 when any failed

Both files are kcat -J dumps (one envelope per line, "key" and "payload"), read committed.
"""
import argparse
import json
import re
import struct
import sys

import jsonschema  # Debian: python3-jsonschema
import yaml  # Debian: python3-yaml


def f32(x):
    """A JSON number (or the contract's non-finite string) as a float32 value."""
    v = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.get(x, x)
    return struct.unpack("<f", struct.pack("<f", v))[0]


def bits(x):
    return struct.unpack("<I", struct.pack("<f", f32(x)))[0]


def as_list(x):
    return x if isinstance(x, list) else [x]


def glob_regex(glob):
    """The config's globs: * any run of characters (dots included), ? one character."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob), re.S)


def drift_rules(config_path):
    with open(config_path) as f:
        config = yaml.safe_load(f)
    return [(glob_regex(r["match"]), int(r.get("window", 100)), float(r.get("threshold", 0.25)))
            for r in config.get("drift") or []]


def ratio(before, now):
    """One channel: float32(|now - before| / before), in double; 0 or inf when before is 0."""
    if before == 0.0:
        return 0.0 if now == 0.0 else float("inf")
    return f32(abs(now - before) / abs(before))


def read_dump(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.strip():
                envelope = json.loads(line)
                out.append((envelope["key"], json.loads(envelope["payload"])))
    return out


def expected(records, rules):
    """Per record (in the topic's order per tensor): the verdict (ratio, drifting) or None, and the
    episodes' first records with the event's fields."""
    history, in_episode, verdicts, events = {}, {}, [], []
    for key, record in records:
        tensor = record["tensor"]
        rule = next((r for r in rules if r[0].fullmatch(tensor)), None)
        if rule is None:
            verdicts.append(None)
            continue
        _, window, threshold = rule
        n = record["batches"]
        if n == 1:
            history[tensor], in_episode[tensor] = {}, False
        scales = history.setdefault(tensor, {})
        now = [f32(s) for s in as_list(record["scale"])] if record["status"] == "ok" else []
        before = scales.pop(n - window, None)
        scales[n] = now
        verdict = None
        if before and len(before) == len(now):
            rs = [ratio(b, s) for b, s in zip(before, now)]
            finite = [i for i, r in enumerate(rs) if r == r]
            worst = max(finite, key=lambda i: (rs[i], -i)) if finite else 0
            drifting = rs[worst] > threshold
            verdict = (rs[worst], drifting)
            if drifting and not in_episode.get(tensor, False):
                event = {"tensor": tensor, "event": "drift", "batches": n, "window": window,
                         "threshold": threshold, "drift_ratio": rs[worst], "scale_before": before[worst],
                         "scale": now[worst], "source": record["source"]}
                if isinstance(record["scale"], list):
                    event["channel"] = worst
                events.append(event)
        in_episode[tensor] = verdict is not None and verdict[1]
        verdicts.append(verdict)
    return verdicts, events


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["count", "check"])
    ap.add_argument("--records", required=True)
    ap.add_argument("--events")
    ap.add_argument("--config", required=True)
    ap.add_argument("--schema-dir")
    a = ap.parse_args()
    records = read_dump(a.records)
    verdicts, want = expected(records, drift_rules(a.config))
    if a.mode == "count":
        print(len(want))
        return 0

    passed, failures = 0, []

    def check(ok, what):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(what)

    check(len(want) > 0, "the records call for at least one drift event (else this check proves nothing)")
    for (key, record), verdict in zip(records, verdicts):
        where = f"{record['tensor']} batch {record['batches']}"
        if verdict is None:
            check("drift" not in record and "drift_ratio" not in record, f"{where}: drift fields without a verdict")
        else:
            check(record.get("drift") == verdict[1] and bits(record.get("drift_ratio", "NaN")) == bits(verdict[0]),
                  f"{where}: drift {record.get('drift')} {record.get('drift_ratio')}, re-derived {verdict}")

    with open(f"{a.schema_dir}/drift-event.schema.json") as f:
        event_schema = json.load(f)
    with open(f"{a.schema_dir}/qparams-record.schema.json") as f:
        record_schema = json.load(f)
    resolver = jsonschema.RefResolver.from_schema(event_schema, store={record_schema["$id"]: record_schema})
    validator = jsonschema.Draft202012Validator(event_schema, resolver=resolver)
    got = read_dump(a.events)
    check(len(got) == len(want), f"{len(got)} events on the topic, {len(want)} re-derived")
    # One partition, written by both observe subtasks: the order holds per tensor only.
    by_record = {(e["tensor"], e["batches"]): (key, e) for key, e in got}
    for w in want:
        where = f"event {w['tensor']} batch {w['batches']}"
        key, event = by_record.get((w["tensor"], w["batches"]), (None, {}))
        errors = [e.message for e in validator.iter_errors(event)]
        check(not errors, f"{where}: {errors}")
        check(key == w["tensor"], f"{where}: key {key}")
        same = all(event.get(k) == w[k] for k in ("tensor", "event", "batches", "window", "threshold", "source"))
        same = same and event.get("channel") == w.get("channel")
        same = same and all(bits(event.get(k, "NaN")) == bits(w[k]) for k in ("drift_ratio", "scale_before", "scale"))
        check(same, f"{where}: {event} != re-derived {w}")
    for line in failures:
        print(line)
    print(f"drift: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
