#!/usr/bin/python3
"""Export-side consumer: reads qparams records from Kafka (read_committed), as a model-export service
would, and checks every one against torch itself, bit for bit:

1. the record's min_val/max_val, loaded into a fresh torch observer of the record's kind (built from
   the rule in --config that matches the tensor, as the job does) with load_state_dict, give exactly
   the record's scale and zero_point through torch's calculate_qparams;
2. with --sent (the producer's manifest), torch's own observer run over the same batches in the same
   order has exactly the record's min_val/max_val after `batches` batches, and the record's input
   hygiene fields count that batch as the observer sees it (float32): `values` its elements,
   `nonfinite` its NaN and infinities, `zeros` its zeros.

Floats are compared as float32 bits (the JSON number read as a double, rounded to float32), with
NaN == NaN and 0.0 == -0.0. The last line is "consumer: N passed, M failed" (one check per record,
plus the named checks: record count, no duplicates, every tensor complete); the exit status is 1 if
any failed. --export FILE writes each tensor's latest qparams, as an export step would use them.
--schema FILE (docs/schema/qparams-record.schema.json) also validates every record against the
contract's JSON Schema (python3-jsonschema); a record it refuses is a failed check.

    /usr/bin/python3 examples/python/consumer.py --config e2e/observers.yaml --sent var/sent/manifest.jsonl
"""
import argparse
import json
import os
import re
import sys
import time
import uuid
import warnings

import numpy as np
import torch
from confluent_kafka import Consumer, KafkaError
from torch.ao.quantization import observer as torch_observers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from qparams.observers import observer_from_record  # noqa: E402 (python/ is on the path only now)
from qparams.wire import record_float32s, same_float32s  # noqa: E402

OBSERVERS = ("MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
             "MovingAveragePerChannelMinMaxObserver")
# torch 1.13 warns on every reduce_range=True observer; the rules mean it.
warnings.filterwarnings("ignore", message="Please use quant_min and quant_max")


def glob_regex(pattern: str):
    """The config's globs: * any run of characters (dots too), ? exactly one; nothing else is special."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z",
                      re.DOTALL)


class Rules:
    """The observer rules of a qparams YAML config (CONTRACT section 2): the first match wins."""

    def __init__(self, path: str):
        import yaml  # python3-yaml comes with python3-torch

        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f) or {}
        self.rules = [(glob_regex(str(rule["match"])), rule) for rule in config.get("observers", [])]

    def observer(self, tensor: str):
        for regex, rule in self.rules:
            if regex.match(tensor):
                kwargs = {k: v for k, v in rule.items() if k not in ("match", "observer")}
                for key in ("dtype", "qscheme"):
                    if key in kwargs:
                        kwargs[key] = getattr(torch, kwargs[key])
                return getattr(torch_observers, rule["observer"])(**kwargs)
        return None


def describe_mismatch(record: dict, obs) -> str:
    """'' when the record names the observer torch would use, else why not."""
    expected = {"observer": type(obs).__name__, "dtype": str(obs.dtype).replace("torch.", ""),
                "qscheme": str(obs.qscheme).replace("torch.", ""), "quant_min": obs.quant_min,
                "quant_max": obs.quant_max}
    if hasattr(obs, "ch_axis"):
        expected["ch_axis"] = obs.ch_axis
    for key, value in expected.items():
        if record.get(key) != value:
            return f"{key} is {record.get(key)!r}, torch's observer has {value!r}"
    if hasattr(obs, "averaging_constant") and not same_float32s(record_float32s(record.get("averaging_constant")),
                                                                 [obs.averaging_constant]):
        return f"averaging_constant is {record.get('averaging_constant')!r}, torch's {obs.averaging_constant!r}"
    return ""


class Replay:
    """torch's own observers over the sent batches, in the order sent: min/max after each batch."""

    def __init__(self, manifest: str):
        self.folder = os.path.dirname(os.path.abspath(manifest))
        self.files = {}
        with open(manifest, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    entry = json.loads(line)
                    self.files.setdefault(entry["tensor"], []).append(entry["file"])
        self.states = {}

    def batches(self, tensor: str) -> int:
        """Non-empty batches sent (an empty one changes nothing and emits nothing)."""
        return sum(1 for array in self._arrays(tensor) if array.size)

    def _arrays(self, tensor: str):
        for file in self.files.get(tensor, []):
            yield np.load(os.path.join(self.folder, file), allow_pickle=False)

    def state(self, tensor: str, batches: int, make_observer):
        """(min_val, max_val, (values, nonfinite, zeros) of the batch) after that many batches."""
        if tensor not in self.states:
            obs, states = make_observer(), []
            for array in self._arrays(tensor):
                if array.size:
                    obs(torch.from_numpy(np.ascontiguousarray(array)))
                    seen = array.astype(np.float32)  # what the observer reduces (it casts to its float32 buffers)
                    counts = (int(seen.size), int(np.count_nonzero(~np.isfinite(seen))),
                              int(np.count_nonzero(seen == 0)))
                    states.append((obs.min_val.clone(), obs.max_val.clone(), counts))
            self.states[tensor] = states
        states = self.states[tensor]
        return states[batches - 1] if 1 <= batches <= len(states) else None


def check(record: dict, make_observer, replay) -> str:
    """'' when the record is torch's bit for bit, else the first difference."""
    obs = make_observer()
    if obs is None:
        return "no rule in the config matches this tensor"
    mismatch = describe_mismatch(record, obs)
    if mismatch:
        return mismatch
    if record.get("status") != "ok":
        return f"status {record.get('status')!r}: {record.get('reason', '')}"
    per_channel = "ch_axis" in record
    min_val, max_val = record_float32s(record["min_val"]), record_float32s(record["max_val"])
    # Start from the observer's own state_dict: its metadata carries the version that makes a
    # per-channel observer resize its empty buffers to the record's channel count.
    state = obs.state_dict()
    if per_channel:
        state["min_val"], state["max_val"] = torch.from_numpy(min_val), torch.from_numpy(max_val)
    else:
        state["min_val"], state["max_val"] = torch.tensor(min_val[0]), torch.tensor(max_val[0])
    obs.load_state_dict(state)
    scale, zero_point = obs.calculate_qparams()
    if not same_float32s(record_float32s(record["scale"]), scale.numpy()):
        return f"scale {record['scale']} != torch's {scale.tolist()}"
    record_zp = record["zero_point"] if isinstance(record["zero_point"], list) else [record["zero_point"]]
    if zero_point.dtype.is_floating_point:
        zero_point_ok = same_float32s(record_float32s(record_zp), zero_point.numpy())
    else:
        zero_point_ok = [int(v) for v in record_zp] == [int(v) for v in zero_point.reshape(-1).tolist()]
    if not zero_point_ok:
        return f"zero_point {record['zero_point']} != torch's {zero_point.tolist()}"
    if replay is not None:
        expected = replay.state(record["tensor"], int(record["batches"]), make_observer)
        if expected is None:
            return f"batches={record['batches']}, but {replay.batches(record['tensor'])} non-empty batches were sent"
        if not same_float32s(min_val, expected[0].numpy()) or not same_float32s(max_val, expected[1].numpy()):
            return (f"min_val/max_val {record['min_val']}/{record['max_val']} != torch's after "
                    f"{record['batches']} batches {expected[0].tolist()}/{expected[1].tolist()}")
        counts = tuple(record.get(k) for k in ("values", "nonfinite", "zeros"))
        if counts != expected[2]:
            return f"values/nonfinite/zeros {counts} != the batch's {expected[2]}"
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="qparams")
    parser.add_argument("--config", help="the job's observer config (YAML); else observers come from the records")
    parser.add_argument("--sent", help="the producer's manifest.jsonl: replay it through torch's observers")
    parser.add_argument("--expect", type=int, help="records to wait for (default: the non-empty batches in --sent)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for them (default 180)")
    parser.add_argument("--group-id", default=f"qparams-export-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--export", help="write each tensor's latest qparams to this JSON file")
    parser.add_argument("--schema", help="validate every record against this JSON Schema (python3-jsonschema)")
    args = parser.parse_args()
    validate = None
    if args.schema:
        import jsonschema  # Debian: python3-jsonschema

        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        validator = jsonschema.Draft202012Validator(schema)

        def validate(record):
            errors = sorted(validator.iter_errors(record), key=lambda e: list(e.path))
            return "; ".join(f"{'/'.join(map(str, e.path)) or '(record)'}: {e.message}" for e in errors[:3])

    rules = Rules(args.config) if args.config else None
    replay = Replay(args.sent) if args.sent else None
    expected_per_tensor = {t: replay.batches(t) for t in replay.files} if replay else {}
    expected = args.expect if args.expect is not None else sum(expected_per_tensor.values()) if replay else None

    consumer = Consumer({"bootstrap.servers": args.bootstrap_servers, "group.id": args.group_id,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    consumer.subscribe([args.topic])
    passed = failed = received = 0
    seen, latest, failures = set(), {}, []
    deadline = time.monotonic() + args.timeout
    settle_until = None  # after the expected count, a few more seconds to catch duplicates
    try:
        while time.monotonic() < deadline and (settle_until is None or time.monotonic() < settle_until):
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    print(f"consumer: {msg.error()}", file=sys.stderr)
                continue
            received += 1
            record = json.loads(msg.value())
            tensor = record.get("tensor")
            key = (tensor, record.get("batches"))
            if key in seen:
                failures.append(f"duplicate record {tensor} batches={record.get('batches')}")
            seen.add(key)

            def make_observer(record=record):
                return rules.observer(record["tensor"]) if rules else observer_from_record(record)

            try:
                reason = (validate(record) if validate else "") or check(record, make_observer, replay)
            except Exception as e:  # a malformed record is a failed check, not a crash
                reason = f"{type(e).__name__}: {e}"
            if reason:
                failed += 1
                failures.append(f"{tensor} batches={record.get('batches')}: {reason}")
            else:
                passed += 1
            if record.get("batches", 0) >= latest.get(tensor, {}).get("batches", 0):
                latest[tensor] = record
            if expected is not None and received >= expected and settle_until is None:
                settle_until = time.monotonic() + 3
    finally:
        consumer.close()

    named = {}
    if expected is not None:
        named[f"received {expected} records (got {received})"] = received == expected and expected > 0
    named["no duplicate records"] = not any(f.startswith("duplicate") for f in failures)
    if replay:
        incomplete = [t for t, n in expected_per_tensor.items() if n and latest.get(t, {}).get("batches") != n]
        named[f"every tensor's last record counts all its batches ({len(incomplete)} not)"] = not incomplete
    for name, ok in named.items():
        print(f"consumer: {'ok  ' if ok else 'FAIL'} {name}", file=sys.stderr)
        passed, failed = passed + ok, failed + (not ok)
    for line in failures[:20]:
        print(f"consumer: FAIL {line}", file=sys.stderr)
    if args.export:
        with open(args.export, "w", encoding="utf-8") as f:
            json.dump({t: {k: r.get(k) for k in ("observer", "dtype", "qscheme", "ch_axis", "batches", "min_val",
                                                  "max_val", "scale", "zero_point") if k in r}
                       for t, r in sorted(latest.items())}, f, indent=1)
    print(f"consumer: checked {received} records of {len(latest)} tensors against torch {torch.__version__}",
          file=sys.stderr)
    print(f"consumer: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
