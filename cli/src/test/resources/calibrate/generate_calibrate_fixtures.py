#!/usr/bin/python3
"""Writes the fixtures of CalibrateCommandTest: batch files made by numpy.save (and JSON), a
manifest interleaving three tensors, the observer config, and what real torch computes for every
batch, floats as float32 hex bits.

Run with Debian's python (it sees python3-torch): /usr/bin/python3 generate_calibrate_fixtures.py
"""
import json
import os
import sys

import numpy as np
import torch
from torch.ao.quantization.observer import (MovingAverageMinMaxObserver,
                                            MovingAveragePerChannelMinMaxObserver,
                                            PerChannelMinMaxObserver)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 5, "python"))
from qparams.wire import float32_hex  # noqa: E402 (python/ is on the path only now)

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = """\
nonfinite: propagate
observers:
  - match: "*.weight"
    observer: PerChannelMinMaxObserver
    ch_axis: 0
    dtype: qint8
    qscheme: per_channel_symmetric
  - match: "*.conv.output"
    observer: MovingAveragePerChannelMinMaxObserver
    ch_axis: 1
    averaging_constant: 0.1
  - match: "*"
    observer: MovingAverageMinMaxObserver
    averaging_constant: 0.01
"""


def observer_for(tensor):
    if tensor.endswith(".weight"):
        return PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    if tensor.endswith(".conv.output"):
        return MovingAveragePerChannelMinMaxObserver(ch_axis=1, averaging_constant=0.1)
    return MovingAverageMinMaxObserver(averaging_constant=0.01)


def main():
    rng = np.random.default_rng(20261127)
    torch.set_num_threads(1)
    with open(os.path.join(HERE, "observers.yaml"), "w") as f:
        f.write(CONFIG)
    batches = []  # (tensor, array, file name)
    for step in range(12):
        drift = 1.0 + 0.5 * np.sin(step / 3.0)
        batches.append(("fc.output", (rng.standard_normal((4, 10)) * 3 * drift).astype(np.float32), "npy"))
        conv = (rng.standard_normal((2, 3, 4, 4)) * drift).astype(np.float64 if step % 3 == 0 else np.float32)
        batches.append(("block.conv.output", np.asfortranarray(conv) if step % 2 else conv, "npy"))
        if step % 4 == 0:
            batches.append(("fc.weight", (rng.standard_normal((5, 8)) * 0.2).astype(np.float16), "npy"))
        if step == 5:
            batches.append(("fc.output", np.zeros((0, 10), dtype=np.float32), "npy"))  # empty: no record
            batches.append(("relu.output", np.maximum(rng.standard_normal((3, 3)), 0).astype(np.float32), "json"))
    observers, expected, manifest = {}, [], []
    for index, (tensor, array, kind) in enumerate(batches):
        name = "b%03d_%s.%s" % (index, tensor.replace(".", "_"), kind)
        if kind == "npy":
            np.save(os.path.join(HERE, name), array)
        else:
            with open(os.path.join(HERE, name), "w") as f:
                json.dump({"shape": list(array.shape), "data": [float(v) for v in array.reshape(-1)]}, f)
        manifest.append({"tensor": tensor, "file": name})
        obs = observers.setdefault(tensor, observer_for(tensor))
        obs(torch.from_numpy(np.ascontiguousarray(array)))
        if array.size == 0:
            continue
        scale, zero_point = obs.calculate_qparams()
        expected.append({"index": index, "tensor": tensor,
                         "min_val": float32_hex(obs.min_val.clone().numpy()),
                         "max_val": float32_hex(obs.max_val.clone().numpy()),
                         "scale": float32_hex(scale.clone().numpy()), "zero_point": [int(z) for z in zero_point]})
    with open(os.path.join(HERE, "manifest.jsonl"), "w") as f:
        f.writelines(json.dumps(entry) + "\n" for entry in manifest)
    with open(os.path.join(HERE, "expected.jsonl"), "w") as f:
        f.write(json.dumps({"torch": torch.__version__, "numpy": np.__version__}) + "\n")
        f.writelines(json.dumps(entry) + "\n" for entry in expected)


if __name__ == "__main__":
    main()
