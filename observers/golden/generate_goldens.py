#!/usr/bin/python3
"""Writes the observer golden files by driving REAL torch observers (CPU).

Run with Debian's interpreter, which sees python3-torch and python3-numpy:

    /usr/bin/python3 observers/golden/generate_goldens.py [OUT_DIR]

OUT_DIR defaults to observers/src/test/resources/golden. Output is deterministic: every case
draws its random inputs from a generator seeded by the CRC32 of its id, and .gz files are
written with mtime 0. The format is described in README.md next to this script.
"""
import gzip
import json
import math
import os
import sys
import warnings
import zlib

import numpy as np
import torch
from torch.ao.quantization import observer as torch_observer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from qparams.wire import float32_from_hex, float32_hex  # noqa: E402 (python/ is on the path only now)

FORMAT_VERSION = 1
OBSERVERS = ("MinMaxObserver", "MovingAverageMinMaxObserver",
             "PerChannelMinMaxObserver", "MovingAveragePerChannelMinMaxObserver")
PER_TENSOR = OBSERVERS[:2]
PER_CHANNEL = OBSERVERS[2:]
MOVING = ("MovingAverageMinMaxObserver", "MovingAveragePerChannelMinMaxObserver")
DTYPES = ("quint8", "qint8", "qint32", "quint4x2")
TENSOR_QSCHEMES = ("per_tensor_affine", "per_tensor_symmetric")
CHANNEL_QSCHEMES = ("per_channel_affine", "per_channel_symmetric", "per_channel_affine_float_qparams")
INF = float("inf")
NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------------------------

def collapse(message):
    return " ".join(str(message).split())


def f32_hex(values):
    """A float32 tensor/array (any shape) as a flat list of 8-digit hex bit patterns."""
    if isinstance(values, torch.Tensor):
        # clone first: numpy() of an observer's buffer would pin its storage, and torch's later
        # resize_ of that buffer fails ("Trying to resize storage that is not resizable").
        values = values.detach().clone().numpy()
    return float32_hex(values)


def encode_input(arr):
    arr = np.ascontiguousarray(arr)
    little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return {"dtype": arr.dtype.name, "shape": list(arr.shape), "hex": little.tobytes().hex()}


def is_per_channel(observer):
    return observer in PER_CHANNEL


def batch_stats(observer, ch_axis, t):
    """torch.aminmax of the batch as the observer reduces it (for the stats replay), or None."""
    x = t.to(torch.float32)
    if not is_per_channel(observer):
        mn, mx = torch.aminmax(x)
        return f32_hex(mn), f32_hex(mx)
    axes = list(range(x.dim()))
    axes[ch_axis] = 0
    axes[0] = ch_axis
    y = torch.flatten(x.permute(axes), start_dim=1)
    mn, mx = torch.aminmax(y, dim=1)
    return f32_hex(mn), f32_hex(mx)


def record_state(obs, step):
    step["min_val"] = f32_hex(obs.min_val)
    step["max_val"] = f32_hex(obs.max_val)
    try:
        scale, zero_point = obs.calculate_qparams()
    except Exception as e:  # torch raises on a NaN state or min_val > max_val
        step["qparams_error"] = collapse(e)
        return step
    step["scale"] = f32_hex(scale)
    if zero_point.dtype.is_floating_point:
        step["zero_point"] = f32_hex(zero_point)
    else:
        step["zero_point"] = [int(z) for z in zero_point.reshape(-1).tolist()]
    return step


def torch_kwargs(kwargs):
    out = dict(kwargs)
    if "dtype" in out:
        out["dtype"] = getattr(torch, out["dtype"])
    if "qscheme" in out:
        out["qscheme"] = getattr(torch, out["qscheme"])
    return out


def run_case(case_id, observer, kwargs, steps):
    """steps: ("observe", ndarray) | ("reset",). Returns the golden record."""
    record = {"id": case_id, "observer": observer, "kwargs": kwargs}
    try:
        obs = getattr(torch_observer, observer)(**torch_kwargs(kwargs))
    except Exception as e:
        record["error"] = collapse(e)
        record["error_type"] = type(e).__name__
        return record
    ch_axis = kwargs.get("ch_axis", 0)
    out = [record_state(obs, {"op": "initial"})]
    for step in steps:
        if step[0] == "reset":
            obs.reset_min_max_vals()
            out.append(record_state(obs, {"op": "reset"}))
            continue
        arr = step[1]
        s = {"op": "observe", "input": encode_input(arr)}
        t = torch.from_numpy(np.array(arr, copy=True))
        try:
            obs(t)
        except Exception as e:
            s["error"] = collapse(e)
            s["error_type"] = type(e).__name__
        if "error" not in s and t.numel() > 0:
            s["batch_min"], s["batch_max"] = batch_stats(observer, ch_axis, t)
        out.append(record_state(obs, s))
    record["steps"] = out
    return record


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------

def rng_for(case_id):
    return np.random.default_rng(zlib.crc32(case_id.encode("utf-8")))


def f32(*values):
    return np.array(values, dtype=np.float32)


def normal(rng, shape, loc=0.0, scale=1.0):
    return (rng.standard_normal(shape) * scale + loc).astype(np.float32)


def specials(rng):
    """name -> 1-d (or 0-d / empty) input of the edge cases OBSERVER-SPEC asks for."""
    return {
        "huge": f32(3e38, -3e38, 1.0),
        "huge_pos": f32(3e38, 2e38),
        "huge_neg": f32(-3e38, -1e38),
        "fmax": f32(3.4028235e38, -3.4028235e38),
        "tiny": f32(1e-30, -2e-30, 1.1754944e-38),
        "subnormal": float32_from_hex("00000001", "80000001", "00400000", "007fffff"),
        "subnormal_pos": float32_from_hex("00000001", "00000003"),
        "subnormal_neg": float32_from_hex("80000005", "80000001"),
        "all_negative": -(rng.random(37) + 0.5).astype(np.float32),
        "all_positive": (rng.random(41) + 0.25).astype(np.float32),
        "const_3": np.full(19, 3.0, np.float32),
        "const_m3": np.full(19, -3.0, np.float32),
        "const_0": np.zeros(19, np.float32),
        "single": f32(2.5),
        "single_neg": f32(-7.25),
        "scalar_0d": np.array(1.5, np.float32),
        "neg_zero": f32(-0.0),
        "zeros_mixed": f32(-0.0, 0.0, -0.0),
        "pos_inf": f32(INF, 1.0),
        "neg_inf": f32(-INF, 1.0),
        "both_inf": f32(-INF, INF),
        "only_pos_inf": f32(INF),
        "only_neg_inf": f32(-INF, -INF),
        "nan": f32(1.0, NAN, 2.0),
        "all_nan": f32(NAN, NAN),
        "nan_payload": float32_from_hex("7fc00001", "3f800000"),
        "neg_nan": float32_from_hex("ffc00000", "40000000"),
        "signaling_nan": float32_from_hex("7f800001", "3f800000"),
        "nan_inf": f32(NAN, INF, -INF),
        "empty": np.zeros((0,), np.float32),
        "empty_2d": np.zeros((0, 3), np.float32),
        "empty_3d": np.zeros((2, 0, 4), np.float32),
        "f64_huge": np.array([1e300, -1e300], np.float64),
        "f64_pos_huge": np.array([1e300, 1.0], np.float64),
        "f64_mixed": np.array([0.1, -1.0 / 3.0, 2.0000001], np.float64),
        "f64_ties": np.array([1 + 2.0 ** -24, -(1 + 3 * 2.0 ** -24), 3 * 2.0 ** -150], np.float64),
        "f64_subnormal": np.array([1e-40, -1e-45, 1e-46], np.float64),
        "f64_overflow_edge": np.array([3.4028235677973366e38, -3.4028235e38], np.float64),
        "f64_random": rng.standard_normal(33) * 1e3,
        "int8": np.arange(-128, 128, dtype=np.int8),
        "uint8": np.arange(0, 256, dtype=np.uint8),
        "int16": np.array([-32768, 32767, 0, 1234], np.int16),
        "int32": np.array([2 ** 31 - 1, -2 ** 31, 16777217, -16777219], np.int32),
        "int64": np.array([2 ** 63 - 1, -2 ** 63, 2 ** 60 + 2 ** 36 + 1, 2 ** 53 + 1,
                           -(2 ** 60 + 2 ** 36 + 1)], np.int64),
        "int64_double_rounding": np.array([2 ** 60 + 2 ** 36 + 1, 2 ** 40 + 2 ** 16 + 1] * 9, np.int64),
        "int64_small": np.array([5, -3, 7], np.int64),
        "f16": np.array([65504, -65504, 6e-8, 0.1, -2.5], np.float16),
        "f16_special": np.array([NAN, 1.0, INF], np.float16),
        "f16_subnormal": np.array([6e-8, -1.2e-7, 3e-5], np.float16),
        "half_even": f32(-1.0, 101.0),
        "large_random": normal(rng, 1000, 0.3, 5.0),
        "long_odd": normal(rng, 1027, -1.0, 0.01),
    }


def same_dtype_normal(rng, like, n):
    values = rng.standard_normal(n) * 3
    if np.issubdtype(like.dtype, np.integer):
        info = np.iinfo(like.dtype)
        return np.clip(np.round(values * 10), info.min, info.max).astype(like.dtype)
    return values.astype(like.dtype)


def to_channels(rng, arr, layout):
    """A 1-d edge-case input as a 2-d per-channel batch: one channel of it and one of normals."""
    if arr.ndim != 1 or arr.size == 0:
        return arr
    stacked = np.stack([arr, same_dtype_normal(rng, arr, arr.size)])
    return np.ascontiguousarray(stacked if layout == "rows" else stacked.T)


def drift_stream(rng, n, shape, loc0=0.0, loc_step=0.01, scale0=1.0, scale_step=0.002):
    return [("observe", normal(rng, shape, loc0 + loc_step * i, scale0 + scale_step * i)) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------

class Goldens:
    def __init__(self):
        self.files = {}
        self.ids = set()

    def add(self, file, case_id, observer, kwargs, steps):
        if case_id in self.ids:
            raise ValueError("duplicate case id " + case_id)
        self.ids.add(case_id)
        self.files.setdefault(file, []).append(run_case(case_id, observer, kwargs, steps))


def kw(observer, **kwargs):
    """Drops the keywords the observer's constructor does not take."""
    allowed = {"dtype", "qscheme", "reduce_range", "quant_min", "quant_max", "eps"}
    if observer in MOVING:
        allowed.add("averaging_constant")
    if observer in PER_CHANNEL:
        allowed.add("ch_axis")
    out = {}
    for k, v in kwargs.items():
        if k in allowed and v is not None:
            out[k] = float(v) if k in ("eps", "averaging_constant") else v
    return out


def qschemes_for(observer):
    return CHANNEL_QSCHEMES if is_per_channel(observer) else TENSOR_QSCHEMES


def short_stream(rng, observer, n=6):
    shape = (3, 8) if is_per_channel(observer) else (24,)
    steps = drift_stream(rng, n, shape, loc0=0.2, loc_step=0.15, scale0=1.0, scale_step=0.3)
    return steps


def gen_matrix(g):
    """Every observer x dtype x allowed qscheme x reduce_range, two streams each."""
    for observer in OBSERVERS:
        for dtype in DTYPES:
            for qscheme in qschemes_for(observer):
                for rr in (False, True):
                    kwargs = kw(observer, dtype=dtype, qscheme=qscheme, reduce_range=rr,
                                averaging_constant=0.3333 if observer in MOVING else None)
                    base = "matrix/%s/%s/%s/rr=%s" % (observer, dtype, qscheme, rr)
                    rng = rng_for(base + "/drift")
                    g.add("matrix.jsonl", base + "/drift", observer, kwargs, short_stream(rng, observer, 8))
                    rng = rng_for(base + "/signs")
                    shape = (4, 5) if is_per_channel(observer) else (20,)
                    steps = [("observe", (rng.random(shape) + 0.1).astype(np.float32)),
                             ("observe", -(rng.random(shape) * 4).astype(np.float32)),
                             ("reset",),
                             ("observe", -(rng.random(shape) + 1).astype(np.float32)),
                             ("observe", normal(rng, shape, 0.0, 100.0)),
                             ("observe", normal(rng, shape, 0.0, 1e-3))]
                    g.add("matrix.jsonl", base + "/signs", observer, kwargs, steps)


CUSTOM_RANGES = [(0, 255), (-128, 127), (-5, 10), (-3, 4), (0, 15), (-7, 7), (-1, 1), (0, 1), (-1, 0),
                 (-15, 0), (-1000, 1000), (-2 ** 30, 2 ** 30 - 1), (-2 ** 31, 2 ** 31 - 1),
                 (-128, 128), (1, 10), (-10, -1), (0, 0), (5, 3), (-3, 3), (-100, 27)]
PER_CHANNEL_RANGES = [(-5, 10), (0, 15), (-7, 7), (-1, 1), (-128, 127), (-2 ** 30, 2 ** 30 - 1), (-3, 4)]


def gen_custom_ranges(g):
    for observer, ranges in (("MinMaxObserver", CUSTOM_RANGES), ("MovingAverageMinMaxObserver", PER_CHANNEL_RANGES),
                             ("PerChannelMinMaxObserver", PER_CHANNEL_RANGES),
                             ("MovingAveragePerChannelMinMaxObserver", PER_CHANNEL_RANGES[:3])):
        for qmin, qmax in ranges:
            for dtype in DTYPES:
                for qscheme in qschemes_for(observer):
                    for rr in (False, True):
                        kwargs = kw(observer, dtype=dtype, qscheme=qscheme, reduce_range=rr, quant_min=qmin,
                                    quant_max=qmax, averaging_constant=0.5)
                        cid = "range/%s/(%d,%d)/%s/%s/rr=%s" % (observer, qmin, qmax, dtype, qscheme, rr)
                        rng = rng_for(cid)
                        shape = (2, 9) if is_per_channel(observer) else (18,)
                        steps = [("observe", normal(rng, shape, 0.5, 2.0)),
                                 ("observe", (rng.random(shape) * 3).astype(np.float32)),
                                 ("observe", normal(rng, shape, -1.0, 0.5))]
                        g.add("custom_range.jsonl", cid, observer, kwargs, steps)
    # Only one bound given: torch ignores it and uses the default range.
    for observer in OBSERVERS:
        for qmin, qmax in ((-5, None), (None, 10), (5, None)):
            kwargs = kw(observer, dtype="qint8", quant_min=qmin, quant_max=qmax)
            cid = "range/one-bound/%s/(%s,%s)" % (observer, qmin, qmax)
            g.add("custom_range.jsonl", cid, observer, kwargs, short_stream(rng_for(cid), observer, 3))


EPS_VALUES = [0.0, 1.401298464324817e-45, 1e-30, 1e-7, 2.0 ** -23, 0.1, 1.0, 1e3, 1e40, -1.0]


def gen_eps(g):
    for observer in OBSERVERS:
        for qscheme in qschemes_for(observer):
            for eps in EPS_VALUES:
                for dtype in ("quint8", "qint32"):
                    kwargs = kw(observer, dtype=dtype, qscheme=qscheme, eps=eps, averaging_constant=0.25)
                    cid = "eps/%s/%s/%s/eps=%r" % (observer, dtype, qscheme, eps)
                    rng = rng_for(cid)
                    pc = is_per_channel(observer)

                    def shaped(a):
                        return np.ascontiguousarray(np.stack([a, a[::-1]])) if pc else a

                    steps = [("observe", shaped(np.zeros(8, np.float32))),
                             ("reset",),
                             ("observe", shaped(np.full(8, 1e-9, np.float32))),
                             ("observe", shaped(normal(rng, 8, 0.0, 1e-6))),
                             ("reset",),
                             ("observe", shaped(normal(rng, 8, 1.0, 2.0))),
                             ("observe", shaped(np.full(8, -3.0, np.float32)))]
                    g.add("eps.jsonl", cid, observer, kwargs, steps)


AVERAGING_CONSTANTS = [0.01, 0.1, 0.3333, 0.5, 0.7, 1.0, 0.0, 2.0, -0.5, 1e-8, 0.9999, 1.5]


def gen_averaging(g):
    for observer in MOVING:
        for c in AVERAGING_CONSTANTS:
            for qscheme in qschemes_for(observer)[:2]:
                kwargs = kw(observer, averaging_constant=c, qscheme=qscheme, dtype="qint8")
                cid = "avg/%s/%s/c=%r" % (observer, qscheme, c)
                rng = rng_for(cid)
                shape = (3, 7) if is_per_channel(observer) else (21,)
                steps = drift_stream(rng, 60, shape, loc0=-0.5, loc_step=0.05, scale0=0.5, scale_step=0.05)
                steps.insert(30, ("observe", np.full(shape, 1e8, np.float32)))
                steps.insert(31, ("observe", np.full(shape, 1.0, np.float32)))
                g.add("averaging.jsonl", cid, observer, kwargs, steps)
        # +-inf through the moving average: NaN on the next batch; c < 0 can go back to (+inf, -inf).
        for c in (0.5, 1.0, -0.5, 2.0):
            kwargs = kw(observer, averaging_constant=c)
            shape_of = (lambda a: np.ascontiguousarray(np.stack([a, a]))) if is_per_channel(observer) else (lambda a: a)
            cid = "avg-inf/%s/c=%r" % (observer, c)
            steps = [("observe", shape_of(f32(-1.0, 1.0))),
                     ("observe", shape_of(f32(-INF, INF))),
                     ("observe", shape_of(f32(-2.0, 3.0))),
                     ("observe", shape_of(f32(-2.0, 3.0))),
                     ("reset",),
                     ("observe", shape_of(f32(-INF, 5.0))),
                     ("observe", shape_of(f32(-1.0, 1.0)))]
            g.add("averaging.jsonl", cid, observer, kwargs, steps)


SPECIAL_CONFIGS = {
    "MinMaxObserver": [dict(), dict(dtype="qint8", qscheme="per_tensor_symmetric")],
    "MovingAverageMinMaxObserver": [dict(averaging_constant=0.5),
                                    dict(dtype="qint8", qscheme="per_tensor_symmetric", averaging_constant=0.1)],
    "PerChannelMinMaxObserver": [dict(ch_axis=0),
                                 dict(ch_axis=1, dtype="qint8", qscheme="per_channel_symmetric"),
                                 dict(ch_axis=-1, dtype="quint4x2", qscheme="per_channel_affine_float_qparams")],
    "MovingAveragePerChannelMinMaxObserver": [dict(ch_axis=0, averaging_constant=0.5),
                                              dict(ch_axis=1, dtype="qint8", averaging_constant=0.7),
                                              dict(ch_axis=-1, qscheme="per_channel_affine_float_qparams",
                                                   averaging_constant=0.3333)],
}


def gen_special_inputs(g):
    names = list(specials(rng_for("names")).keys())
    for name in names:
        for observer in OBSERVERS:
            for i, config in enumerate(SPECIAL_CONFIGS[observer]):
                cid = "input/%s/%s/cfg%d" % (name, observer, i)
                rng = rng_for(cid)
                special = specials(rng)[name]
                if is_per_channel(observer):
                    layout = "rows" if config.get("ch_axis", 0) == 0 else "cols"
                    special = to_channels(rng, special, layout)
                    plain = to_channels(rng, normal(rng, 6), layout)
                    other = to_channels(rng, normal(rng, 6, 1.0, 0.5), layout)
                    if special.ndim == 2 and special.shape != plain.shape:
                        # keep the channel count constant: torch would broadcast a change, we refuse it
                        n = special.shape[1] if layout == "rows" else special.shape[0]
                        plain = to_channels(rng, normal(rng, n), layout)
                        other = to_channels(rng, normal(rng, n, 1.0, 0.5), layout)
                else:
                    plain = normal(rng, 6)
                    other = normal(rng, 6, 1.0, 0.5)
                steps = [("observe", special), ("observe", plain), ("observe", special), ("observe", other),
                         ("reset",), ("observe", plain), ("observe", special)]
                g.add("inputs.jsonl", cid, observer, kw(observer, **config), steps)


def gen_channel_axes(g):
    shapes = {2: (3, 5), 3: (2, 3, 4), 4: (2, 3, 4, 5)}
    for ndim, shape in shapes.items():
        for axis in list(range(ndim)) + list(range(-ndim, 0)):
            for observer in PER_CHANNEL:
                for qscheme in ("per_channel_affine", "per_channel_symmetric", "per_channel_affine_float_qparams"):
                    kwargs = kw(observer, ch_axis=axis, qscheme=qscheme, dtype="qint8", averaging_constant=0.2)
                    cid = "axis/%s/%dd/ch_axis=%d/%s" % (observer, ndim, axis, qscheme)
                    rng = rng_for(cid)
                    steps = [("observe", normal(rng, shape, 0.1 * k, 1.0 + k)) for k in range(4)]
                    steps.insert(2, ("reset",))
                    g.add("channel_axes.jsonl", cid, observer, kwargs, steps)
    # Axes that do not exist in the batch: torch raises IndexError, the state stays as it was.
    for observer in PER_CHANNEL:
        for axis, good_shape, bad in ((0, (3, 4), np.zeros(4, np.float32)),
                                      (-1, (3, 4), f32(1.0, 2.0, 3.0, 4.0)),
                                      (0, (3, 4), np.array(2.0, np.float32)),
                                      (2, (3, 4, 2), normal(rng_for("bad2"), (3, 4))),
                                      (-3, (3, 4, 2), normal(rng_for("bad-3"), (4, 2))),
                                      (1, (2, 3), normal(rng_for("bad1"), 6))):
            cid = "axis-error/%s/ch_axis=%d/%s" % (observer, axis, "x".join(map(str, bad.shape)) or "0d")
            rng = rng_for(cid)
            steps = [("observe", bad), ("observe", normal(rng, good_shape)), ("observe", bad),
                     ("observe", normal(rng, good_shape, 1.0, 2.0))]
            g.add("channel_axes.jsonl", cid, observer, kw(observer, ch_axis=axis, averaging_constant=0.5), steps)
    # Same channel count, different rank; reset, then a new channel count.
    for observer in PER_CHANNEL:
        cid = "axis-rank/%s" % observer
        rng = rng_for(cid)
        steps = [("observe", normal(rng, (3, 4))), ("observe", normal(rng, (3, 2, 2), 0.5)),
                 ("observe", normal(rng, (3, 1, 2, 3), -0.5)), ("observe", normal(rng, (3,) + (1,) * 5)),
                 ("reset",), ("observe", normal(rng, (5, 2))), ("observe", normal(rng, (5, 3, 1)))]
        g.add("channel_axes.jsonl", cid, observer, kw(observer, averaging_constant=0.5), steps)


def gen_streams(g):
    """Long drifting streams with resets, several hundred batches each."""
    configs = [
        ("MovingAverageMinMaxObserver", dict(), (64,), 500),
        ("MovingAverageMinMaxObserver", dict(averaging_constant=0.3333, dtype="qint8",
                                             qscheme="per_tensor_symmetric"), (8, 16), 400),
        ("MovingAverageMinMaxObserver", dict(averaging_constant=0.7, reduce_range=True), (33,), 300),
        ("MinMaxObserver", dict(dtype="qint8"), (128,), 300),
        ("MinMaxObserver", dict(dtype="qint32", eps=0.0), (50,), 300),
        ("MovingAveragePerChannelMinMaxObserver", dict(ch_axis=1, averaging_constant=0.01), (4, 8, 5), 400),
        ("MovingAveragePerChannelMinMaxObserver", dict(ch_axis=0, averaging_constant=0.1,
                                                       qscheme="per_channel_affine_float_qparams",
                                                       dtype="quint4x2"), (6, 20), 300),
        ("PerChannelMinMaxObserver", dict(ch_axis=-1, dtype="qint8", qscheme="per_channel_symmetric"), (10, 7), 300),
    ]
    for k, (observer, config, shape, n) in enumerate(configs):
        cid = "stream/%d/%s" % (k, observer)
        rng = rng_for(cid)
        steps = []
        for i in range(n):
            loc = 3.0 * math.sin(i / 40.0) + 0.002 * i
            scale = 1.0 + 0.5 * math.cos(i / 17.0) + 0.001 * i
            steps.append(("observe", normal(rng, shape, loc, scale)))
            if i in (n // 3, (2 * n) // 3 + 1):
                steps.append(("reset",))
        g.add("streams.jsonl.gz", cid, observer, kw(observer, **config), steps)


def gen_specific(g):
    # Half to even: [-1, 101] gives min/scale = -2.5 exactly and zp 2.
    for name, values in (("-1,101", (-1.0, 101.0)), ("-3,99", (-3.0, 99.0)), ("-5,97", (-5.0, 97.0)),
                         ("-0.5,50.5", (-0.5, 50.5)), ("-1.5,100.5", (-1.5, 100.5))):
        for observer in PER_TENSOR:
            for rr in (False, True):
                cid = "half-even/%s/[%s]/rr=%s" % (observer, name, rr)
                g.add("specific.jsonl", cid, observer, kw(observer, reduce_range=rr, averaging_constant=0.5),
                      [("observe", f32(*values)), ("observe", f32(*values))])
    # qint32: the default eps clamps the scale; eps 0 shows the real one.
    for observer in OBSERVERS:
        for qscheme in qschemes_for(observer):
            for eps in (None, 0.0, 1e-12):
                cid = "qint32/%s/%s/eps=%r" % (observer, qscheme, eps)
                rng = rng_for(cid)
                shape = (2, 10) if is_per_channel(observer) else (20,)
                steps = [("observe", normal(rng, shape, 0.0, 1.0)), ("observe", normal(rng, shape, 5.0, 100.0)),
                         ("observe", normal(rng, shape, 0.0, 1e4)), ("reset",),
                         ("observe", np.full(shape, 7.0, np.float32))]
                g.add("specific.jsonl", cid, observer, kw(observer, dtype="qint32", qscheme=qscheme, eps=eps,
                                                         averaging_constant=0.5), steps)
    # Constants: scale 3/255 and zp 0; -3 gives zp 255; 0 gives scale eps, zp qmin.
    for observer in OBSERVERS:
        for qscheme in qschemes_for(observer):
            for dtype in ("quint8", "qint8"):
                for value in (3.0, -3.0, 0.0, -0.0):
                    cid = "constant/%s/%s/%s/%r" % (observer, dtype, qscheme, value)
                    shape = (2, 3) if is_per_channel(observer) else (6,)
                    g.add("specific.jsonl", cid, observer, kw(observer, dtype=dtype, qscheme=qscheme),
                          [("observe", np.full(shape, value, np.float32))] * 2)
    # averaging_constant = 1.0 is not "take the batch": 1e8 + 1 * (1 - 1e8) = 0.
    g.add("specific.jsonl", "c1-not-take-batch", "MovingAverageMinMaxObserver", kw(
        "MovingAverageMinMaxObserver", averaging_constant=1.0), [("observe", f32(1e8)), ("observe", f32(1.0))])
    # Overflow: [-3e38, 3e38] gives scale inf.
    for observer in PER_TENSOR:
        for qscheme in TENSOR_QSCHEMES:
            cid = "overflow/%s/%s" % (observer, qscheme)
            g.add("specific.jsonl", cid, observer, kw(observer, qscheme=qscheme, dtype="qint8"),
                  [("observe", f32(-3e38, 3e38)), ("observe", f32(-3.4028235e38, 0.0))])


def gen_refusals(g):
    refusals = []
    for observer in PER_TENSOR:
        for qscheme in CHANNEL_QSCHEMES:
            refusals.append((observer, dict(qscheme=qscheme)))
        refusals.append((observer, dict(qscheme="per_tensor_symmetric", reduce_range=True)))
        refusals.append((observer, dict(qscheme="per_tensor_symmetric", reduce_range=True, quant_min=0, quant_max=255)))
        refusals.append((observer, dict(qscheme="per_channel_affine", quant_min=1, quant_max=10)))
        refusals.append((observer, dict(qscheme="per_tensor_symmetric", reduce_range=True, quant_min=1, quant_max=10)))
    for observer in PER_CHANNEL:
        for qscheme in TENSOR_QSCHEMES:
            refusals.append((observer, dict(qscheme=qscheme)))
        refusals.append((observer, dict(qscheme="per_channel_symmetric", reduce_range=True)))
        refusals.append((observer, dict(qscheme="per_tensor_affine", quant_min=1, quant_max=10)))
    for observer in OBSERVERS:
        for dtype, qmin, qmax in (("quint8", 1, 10), ("quint8", -10, -1), ("quint8", 0, 0), ("qint8", 3, -3),
                                  ("qint8", -128, 128), ("qint8", -200, 100), ("qint8", 0, 256),
                                  ("qint32", -2 ** 31, 2 ** 31 - 1), ("qint32", -2 ** 30, 2 ** 30),
                                  ("qint32", 0, 2 ** 31 - 1), ("quint4x2", 2, 15), ("qint32", -2 ** 31, -1)):
            refusals.append((observer, dict(dtype=dtype, quant_min=qmin, quant_max=qmax)))
    for observer, config in refusals:
        cid = "refuse/%s/%s" % (observer, ",".join("%s=%s" % kv for kv in sorted(config.items())))
        g.add("refusals.jsonl", cid, observer, kw(observer, **config), [])


def gen_upstream(g):
    """Inputs of pytorch's test/quantization/core/test_workflow_module.py (TestObserver and friends)."""
    for qdtype in ("qint8", "quint8"):
        for qscheme in TENSOR_QSCHEMES:
            for rr in (False, True):
                base = "upstream/test_per_tensor_observers/%s/%s/rr=%s" % (qdtype, qscheme, rr)
                g.add("upstream.jsonl", base + "/MinMaxObserver", "MinMaxObserver",
                      kw("MinMaxObserver", dtype=qdtype, qscheme=qscheme, reduce_range=rr),
                      [("observe", f32(1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0)),
                       ("observe", f32(4.0, 5.0, 5.0, 6.0, 7.0, 8.0))])
                g.add("upstream.jsonl", base + "/MovingAverageMinMaxObserver", "MovingAverageMinMaxObserver",
                      kw("MovingAverageMinMaxObserver", averaging_constant=0.5, dtype=qdtype, qscheme=qscheme,
                         reduce_range=rr),
                      [("observe", f32(0.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0)),
                       ("observe", f32(2.0, 5.0, 5.0, 6.0, 7.0, 10.0))])
    x = np.array([[[[1.0, 2.0], [2.0, 2.5]], [[3.0, 4.0], [4.5, 6.0]]],
                  [[[-4.0, -3.0], [5.0, 5.0]], [[6.0, 3.0], [7.0, 8.0]]]], np.float32)
    for qdtype in ("qint8", "quint8"):
        for qscheme in CHANNEL_QSCHEMES:
            for ch_axis in (0, 1, 2, 3):
                for rr in (False, True):
                    base = "upstream/test_per_channel_observers/%s/%s/ch_axis=%d/rr=%s" % (qdtype, qscheme, ch_axis, rr)
                    g.add("upstream.jsonl", base + "/PerChannelMinMaxObserver", "PerChannelMinMaxObserver",
                          kw("PerChannelMinMaxObserver", reduce_range=rr, ch_axis=ch_axis, dtype=qdtype,
                             qscheme=qscheme), [("observe", x)])
                    g.add("upstream.jsonl", base + "/MovingAveragePerChannelMinMaxObserver",
                          "MovingAveragePerChannelMinMaxObserver",
                          kw("MovingAveragePerChannelMinMaxObserver", averaging_constant=0.5, reduce_range=rr,
                             ch_axis=ch_axis, dtype=qdtype, qscheme=qscheme),
                          [("observe", (np.float32(0.5) * x)), ("observe", (np.float32(1.5) * x))])
    for observer in OBSERVERS:
        g.add("upstream.jsonl", "upstream/test_zero_numel/" + observer, observer, {},
              [("observe", np.zeros((0,), np.float32))])
        cid = "upstream/test_observers_preserve_buffers/" + observer
        rng = rng_for(cid)
        g.add("upstream.jsonl", cid, observer, kw(observer, dtype="qint8"),
              [("observe", rng.random((4, 4, 4)).astype(np.float32)) for _ in range(5)])
        cid = "upstream/test_observer_scriptable/" + observer
        g.add("upstream.jsonl", cid, observer, {}, [("observe", rng_for(cid).random((3, 4)).astype(np.float32))])
    # default_per_channel_weight_observer in test_fq_serializable_per_channel
    g.add("upstream.jsonl", "upstream/test_fq_serializable_per_channel", "PerChannelMinMaxObserver",
          kw("PerChannelMinMaxObserver", dtype="qint8", qscheme="per_channel_symmetric", quant_min=-128, quant_max=127),
          [("observe", np.array([[-5, -3.5, -2, 0, 3, 5, 7], [1, 3, 2, 5, 6.5, 8, 10]], np.float32))])
    g.add("upstream.jsonl", "upstream/test_fused_mod_reduce_range", "MovingAverageMinMaxObserver",
          kw("MovingAverageMinMaxObserver", quant_min=0, quant_max=255, dtype="quint8", reduce_range=True),
          [("observe", normal(rng_for("fused"), (5, 5)))])
    # test_fused_mod_per_channel: MovingAveragePerChannelMinMaxObserver, c = 0.001, randn(5, 10) x 10
    cid = "upstream/test_fused_mod_per_channel"
    rng = rng_for(cid)
    g.add("upstream.jsonl", cid, "MovingAveragePerChannelMinMaxObserver",
          kw("MovingAveragePerChannelMinMaxObserver", averaging_constant=0.001),
          [("observe", normal(rng, (5, 10))) for _ in range(10)])


def write(g, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(g.files):
        meta = {"meta": {"format": FORMAT_VERSION, "torch": torch.__version__, "numpy": np.__version__,
                         "generator": "observers/golden/generate_goldens.py", "cases": len(g.files[name])}}
        lines = [json.dumps(meta, separators=(",", ":"))]
        lines += [json.dumps(record, separators=(",", ":"), allow_nan=False) for record in g.files[name]]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path = os.path.join(out_dir, name)
        if name.endswith(".gz"):
            with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(data)
        else:
            with open(path, "wb") as f:
                f.write(data)
        print("%-22s %5d cases" % (name, len(g.files[name])), file=sys.stderr)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "src", "test", "resources", "golden")
    warnings.simplefilter("ignore")  # reduce_range deprecation, "must run observer before calculate_qparams"
    torch.set_num_threads(1)
    g = Goldens()
    gen_matrix(g)
    gen_custom_ranges(g)
    gen_eps(g)
    gen_averaging(g)
    gen_special_inputs(g)
    gen_channel_axes(g)
    gen_specific(g)
    gen_refusals(g)
    gen_upstream(g)
    gen_streams(g)
    write(g, out_dir)
    print("total %d cases, torch %s" % (len(g.ids), torch.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
