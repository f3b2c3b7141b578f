#!/usr/bin/python3
"""Writes the decoder fixtures next to this file and expected.json, their expected float32 min/max.

Run with Debian's python (it sees numpy): /usr/bin/python3 generate_npy_fixtures.py
Every .npy file is the real output of numpy.lib.format.write_array; every expectation is computed by
numpy after .astype(np.float32) (round to nearest, as torch's x.to(torch.float32)). Floats are stored
as float32 hex bit patterns so the Java side compares exactly. Deterministic: a fixed seed.
"""
import glob
import json
import os
import sys

import numpy as np
from numpy.lib import format as npf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 5, "python"))
from qparams.wire import float32_hex  # noqa: E402 (python/ is on the path only now)

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_DIR = os.path.join(HERE, "json")
rng = np.random.default_rng(20261127)

# Values that exercise the conversion to float32: extremes, rounding ties, subnormals, -0.0.
SPECIALS = {
    "f2": [0.0, -0.0, 5.96e-08, 6.1e-05, 65504.0, -65504.0, 1.0 / 3, -2.5],
    "f4": [0.0, -0.0, 1.4e-45, 1.17549435e-38, 3.4028235e38, -3.4028235e38, 0.1, -7.25],
    "f8": [0.1, 1.0 / 3, -1e-300, 7e-46, 8e-46, 3.4028235677973366e38, -1.0000000000000002, 16777217.0],
    "i1": [-128, 127, 0, -1],
    "i2": [-32768, 32767, 0, 1],
    "i4": [-2**31, 2**31 - 1, 16777217, -16777219],
    "i8": [-2**63, 2**63 - 1, 2**53 + 1, 16777219, -(2**40) - 3],
    "u1": [0, 255, 128],
    "u2": [0, 65535, 32768],
    "u4": [0, 2**32 - 1, 16777217, 2**31 + 129],
}
SHAPES = {"0d": (), "5": (5,), "3x4": (3, 4), "2x3x4": (2, 3, 4), "empty": (0,), "2x0x3": (2, 0, 3)}


def values(code, n):
    dtype = np.dtype(code)
    special = SPECIALS[code[1:]][:n]
    if dtype.kind == "f":
        rest = rng.normal(0, 50, n - len(special))
    else:
        info = np.iinfo(dtype)
        rest = rng.integers(max(info.min, -1000), min(info.max, 1000), n - len(special), endpoint=True)
    return np.array(list(special) + list(rest), dtype=np.float64 if dtype.kind == "f" else object).astype(dtype)


def reduce(a32, finite_only):
    """(min, max) as hex bits, numpy's min/max (NaN propagates, as torch.aminmax); None when nothing is left."""
    flat = a32.reshape(-1)
    if finite_only:
        flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return None
    return float32_hex([flat.min(), flat.max()])


def expectation(a):
    with np.errstate(over="ignore"):
        a32 = a.astype(np.float32)
    entry = {"shape": list(a.shape), "numel": int(a.size),
             "finite": bool(np.isfinite(a32).all()) if a.size else True}
    if a.size == 0:
        return entry
    # "ignore" is written only where it differs from "propagate", i.e. for non-finite batches
    policies = (("propagate", False),) if entry["finite"] else (("propagate", False), ("ignore", True))
    entry["per_tensor"] = {policy: reduce(a32, finite_only) for policy, finite_only in policies}
    channels = {}
    for axis in range(-a.ndim, a.ndim) if a.ndim >= 2 else []:
        rows = np.moveaxis(a32, axis, 0).reshape(a.shape[axis], -1)
        by_policy = {}
        for policy, finite_only in policies:
            per_row = [reduce(row, finite_only) for row in rows]
            by_policy[policy] = None if None in per_row else {
                "min": [r[0] for r in per_row], "max": [r[1] for r in per_row]}
        channels[str(axis)] = by_policy
    entry["per_channel"] = channels
    return entry


def write_npy(name, a, version=None):
    with open(os.path.join(HERE, name), "wb") as f:
        npf.write_array(f, a, version=version, allow_pickle=False)


def main():
    for old in glob.glob(os.path.join(HERE, "*.npy")) + glob.glob(os.path.join(JSON_DIR, "*.json")):
        os.remove(old)
    os.makedirs(JSON_DIR, exist_ok=True)
    fixtures = []

    def add(name, a, version=None, **extra):
        write_npy(name, a, version)
        header = np.load(os.path.join(HERE, name), mmap_mode=None, allow_pickle=False)
        assert header.dtype == a.dtype and header.shape == a.shape
        fixtures.append(dict(file=name, descr=a.dtype.str, fortran=bool(a.ndim >= 2 and not a.flags.c_contiguous),
                             version="%d.0" % (version or (1, 0))[0], **expectation(a), **extra))

    for code in SPECIALS:
        orders = ["|"] if code[1] == "1" else ["<", ">"]
        for bo in orders:
            dtype = np.dtype(bo + code)
            tag = {"|": "na", "<": "le", ">": "be"}[bo]
            for shape_name, shape in SHAPES.items():
                a = values(dtype.str, int(np.prod(shape))).reshape(shape)
                add("%s_%s_C_%s.npy" % (code, tag, shape_name), a)
                if a.ndim >= 2 and a.size:
                    add("%s_%s_F_%s.npy" % (code, tag, shape_name), np.asfortranarray(a))
            # every special value on its own channel row: per-channel axis 0 checks each conversion
            n = len(SPECIALS[code])
            add("%s_%s_C_elements.npy" % (code, tag), values(dtype.str, n).reshape(n, 1))

    # non-finite values: NaN in row 0, +-inf in row 1, finite row 2, nothing finite in channel 3 of axis 1
    for code in ("f2", "f4", "f8"):
        for bo, tag in (("<", "le"), (">", "be")):
            a = np.array([[np.nan, 1.5, -2.0, np.nan],
                          [np.inf, -np.inf, 3.0, np.inf],
                          [0.25, -0.5, 7.0, np.nan]], dtype=bo + code)
            add("%s_%s_C_nonfinite.npy" % (code, tag), a)
            add("%s_%s_F_nonfinite.npy" % (code, tag), np.asfortranarray(a))
    # float64 values that overflow float32
    add("f8_le_C_overflow.npy", np.array([[1e39, -1.0], [2.0, -1e300]], dtype="<f8"))

    # format versions 2.0 and 3.0 (3.0: the header is utf-8)
    for version in ((2, 0), (3, 0)):
        v = "v%d" % version[0]
        a = values("<f4", 12).reshape(3, 4)
        add("f4_le_C_3x4_%s.npy" % v, a, version)
        add("f4_le_F_3x4_%s.npy" % v, np.asfortranarray(a), version)
        add("i2_be_C_2x3x4_%s.npy" % v, values(">i2", 24).reshape(2, 3, 4), version)
        add("f8_le_C_0d_%s.npy" % v, values("<f8", 1).reshape(()), version)

    # JSON tensors: doubles rounded to float32 by numpy, written flat and nested
    json_cases = {
        "rounding": np.array([[0.1, 1.0 / 3, 16777217.0, -7e-46], [8e-46, 3.4028235677973366e38, -2.5, 1e-300]]),
        "overflow": np.array([[1e39, 1.0], [-1.0, 2.0]]),
        "cube": rng.normal(0, 10, (2, 3, 4)),
        "vector": rng.normal(0, 1e-3, (7,)),
        "scalar": np.array(-0.3),
        "ints": np.array([[3, -4, 5], [16777217, 0, -16777219]], dtype=np.float64),
        "empty": np.zeros((2, 0)),
    }
    for name, a in json_cases.items():
        for layout in ("nested", "flat"):
            data = a.tolist() if layout == "nested" else a.reshape(-1).tolist()
            if name == "ints":
                data = [int(x) for x in a.reshape(-1)] if layout == "flat" else [[int(x) for x in r] for r in a]
            file = "json/%s_%s.json" % (name, layout)
            with open(os.path.join(HERE, file), "w") as f:
                json.dump({"shape": list(a.shape), "data": data}, f, allow_nan=False)
            fixtures.append(dict(file=file, descr="json", fortran=False, version="json", **expectation(a)))

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        # one fixture per line: small diffs when a fixture changes
        f.write('{"numpy": "%s", "fixtures": [\n' % np.__version__)
        f.write(",\n".join(json.dumps(x, separators=(",", ":")) for x in fixtures))
        f.write("\n]}\n")
    print("%d fixtures" % len(fixtures))


if __name__ == "__main__":
    main()
