#!/usr/bin/python3
"""Checks what `bin/qparams export` wrote from the real topic in e2e/run-e2e.sh, against the
consumer's view of the same topic (examples/python/consumer.py --export: each tensor's latest
record, checked bit for bit against torch) and the contract's JSON Schemas (the json export as a
whole against export.schema.json, found beside --schema, whose values are qparams records). One
line per failed check on stdout; exit status 1 when any failed.

  check_exports.py --schema docs/schema/qparams-record.schema.json --consumer export.json \
      --json qparams.json --aimet model.encodings --tensorrt model.cache --torch observers.pt
"""
import argparse
import json
import os
import struct
import sys
import warnings

import jsonschema  # Debian: python3-jsonschema


def f32(x):
    """A JSON number (or the contract's non-finite string) as float32 bits."""
    v = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.get(x, x)
    return struct.unpack("<I", struct.pack("<f", v))[0]


def as_list(x):
    return x if isinstance(x, list) else [x]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True)
    ap.add_argument("--consumer", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--aimet", required=True)
    ap.add_argument("--tensorrt", required=True)
    ap.add_argument("--torch", required=True)
    a = ap.parse_args()
    failures = []
    with open(a.schema) as f:
        record_schema = json.load(f)
    with open(os.path.join(os.path.dirname(a.schema), "export.schema.json")) as f:
        export_schema = json.load(f)
    # export.schema.json's values $ref the record schema by its $id: resolved here, never fetched.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver: deprecated from jsonschema 4.18
        resolver = jsonschema.RefResolver.from_schema(export_schema,
                                                      store={record_schema["$id"]: record_schema})
    validator = jsonschema.Draft202012Validator(export_schema, resolver=resolver)
    with open(a.consumer) as f:
        consumer = json.load(f)
    with open(a.json) as f:
        exported = json.load(f)

    # json: valid by export.schema.json; every tensor the consumer saw, its latest record (same
    # batches and floats)
    for e in validator.iter_errors(exported):
        failures.append(f"json: {'/'.join(map(str, e.path)) or '(file)'}: {e.message}")
    if sorted(exported) != sorted(consumer):
        failures.append(f"json: tensors {sorted(set(exported) ^ set(consumer))} differ from the consumer's")
    for name, record in exported.items():
        want = consumer.get(name, {})
        for key in ("batches", "min_val", "max_val", "scale", "zero_point"):
            got, exp = record.get(key), want.get(key)
            if key in ("min_val", "max_val", "scale"):
                got, exp = [f32(x) for x in as_list(got)], [f32(x) for x in as_list(exp)]
            if got != exp:
                failures.append(f"json: {name}: {key} {record.get(key)} != consumer's {want.get(key)}")

    # aimet 0.6.1: each entry gives back the record's float32 scale and zero point
    with open(a.aimet) as f:
        aimet = json.load(f)
    seen = 0
    for block in ("activation_encodings", "param_encodings"):
        for name, encodings in aimet[block].items():
            r = exported[name]
            scales, zps = as_list(r["scale"]), as_list(r["zero_point"])
            for c, enc in enumerate(encodings):
                scale = (enc["max"] - enc["min"]) / (r["quant_max"] - r["quant_min"])
                if f32(scale) != f32(scales[c]) or r["quant_min"] - enc["offset"] != zps[c]:
                    failures.append(f"aimet: {name}[{c}]: {enc} does not give scale {scales[c]}, zero point {zps[c]}")
            seen += 1
    if seen != len(exported):
        failures.append(f"aimet: {seen} tensors of {len(exported)}")

    # tensorrt: amax / 127 as float32 big-endian hex, per-tensor records only
    with open(a.tensorrt) as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith("TRT-"):
        failures.append(f"tensorrt: header {lines[:1]}")
    for line in lines[1:]:
        name, hexbits = line.split(": ")
        r = exported[name]
        lo, hi = struct.unpack("<f", struct.pack("<f", -r["min_val"]))[0], r["max_val"]
        amax = struct.unpack("<f", struct.pack("<f", max(lo, hi)))[0]
        want = struct.pack(">f", struct.unpack("<f", struct.pack("<f", amax / 127))[0]).hex()
        # float32 division: amax and 127 are exact in float32, so float64 division then one rounding
        # equals float32 division (the quotient of two float32s rounds the same; Figueroa 1995).
        if hexbits != want:
            failures.append(f"tensorrt: {name}: {hexbits} != {want}")
    # torch: torch.load gives every tensor's min_val/max_val under its module's observer
    import torch  # Debian: python3-torch

    state = torch.load(a.torch)
    for name, r in exported.items():
        module = name[: -len(".output")] if name.endswith(".output") else name
        for key in ("min_val", "max_val"):
            t = state.get(f"{module}.activation_post_process.{key}")
            if t is None or [f32(v) for v in t.reshape(-1).tolist()] != [f32(v) for v in as_list(r[key])]:
                failures.append(f"torch: {module}.activation_post_process.{key} is {t}, not {r[key]}")
    if len(state) != 2 * len(exported):
        failures.append(f"torch: {len(state)} tensors for {len(exported)} records")

    for f_ in failures[:30]:
        print(f_)
    print(f"check_exports: {len(exported)} tensors, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
