#!/usr/bin/python3
"""The torch export, loaded by real torch (Debian's python3-torch): for every record of RECORDS
(JSON lines: the records exported, each with an extra "module" field, the module path the export
derived), an eager-mode model with a leaf module at that path is prepared with the record's own
observer (torch.ao.quantization.prepare), the exported file is read with torch.load and put in with
load_state_dict(strict=False), and each observer's calculate_qparams() must equal the record's
scale and zero point bit for bit. Prints one line per failure and "checked N" last; exit 1 on any
failure.

    check_torch_export.py EXPORT.pt RECORDS.jsonl
"""
import json
import os
import struct
import sys
import warnings

import torch
from torch import nn
from torch.ao.quantization import QConfig, default_weight_observer, get_default_qconfig_propagation_list, prepare

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..", "python"))
from qparams.observers import observer_from_record  # noqa: E402

warnings.filterwarnings("ignore")


def bits(x):
    v = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.get(x, x)
    return struct.unpack("<I", struct.pack("<f", v))[0]


def as_list(x):
    return x if isinstance(x, list) else [x]


def main():
    export, records_file = sys.argv[1], sys.argv[2]
    with open(records_file) as f:
        records = [json.loads(line) for line in f if line.strip()]
    model = nn.Module()
    for r in records:
        parent = model
        *path, leaf = r["module"].split(".")
        for part in path:
            if not hasattr(parent, part):
                parent.add_module(part, nn.Module())
            parent = getattr(parent, part)
        module = nn.Identity()
        module.qconfig = QConfig(activation=lambda r=r: observer_from_record(r), weight=default_weight_observer)
        parent.add_module(leaf, module)
    # Identity leaves stand in for the model's modules: eager prepare observes the leaf types of
    # its propagation list, to which they are added.
    prepared = prepare(model, allow_list=get_default_qconfig_propagation_list() | {nn.Identity})
    state = torch.load(export)
    missing, unexpected = prepared.load_state_dict(state, strict=False)
    failures = [f"unexpected key {k}" for k in unexpected]
    for r in records:
        obs = prepared.get_submodule(r["module"]).activation_post_process
        for key in ("min_val", "max_val"):
            got = [bits(v) for v in getattr(obs, key).reshape(-1).tolist()]
            if got != [bits(v) for v in as_list(r[key])]:
                failures.append(f"{r['module']}: {key} {getattr(obs, key)} != {r[key]}")
        scale, zero_point = obs.calculate_qparams()
        if [bits(v) for v in scale.reshape(-1).tolist()] != [bits(v) for v in as_list(r["scale"])]:
            failures.append(f"{r['module']}: scale {scale} != {r['scale']}")
        zps = zero_point.reshape(-1).tolist()
        want = as_list(r["zero_point"])
        if (r["qscheme"] == "per_channel_affine_float_qparams" and [bits(v) for v in zps] != [bits(v) for v in want]) \
                or (r["qscheme"] != "per_channel_affine_float_qparams" and zps != want):
            failures.append(f"{r['module']}: zero_point {zps} != {want}")
    for line in failures[:20]:
        print(line)
    print(f"checked {len(records)} observers against torch {torch.__version__}, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
