"""The bytes and floats of qparams' wire formats, written once for every Python script of the repo.

- A batch on the input topic is the bytes `numpy.save` writes (npy_bytes).
- Every float of a qparams record is a float32: the JSON number read as a double and rounded to
  float32 gives torch's exact bits; non-finite floats are the strings "NaN", "Infinity", "-Infinity"
  (record_float32s). Comparing two of them means comparing bits, with every NaN alike and -0.0 equal
  to 0.0 (same_float32s).
- Golden and fixture files store float32 values as 8-digit hex bit patterns (float32_hex,
  float32_from_hex), so that Java compares them exactly.

Only numpy: torch tensors are converted by the caller (tensor.detach().clone().numpy()).
"""
import io
import math

import numpy as np

NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def npy_bytes(array: np.ndarray) -> bytes:
    """The bytes numpy.save writes for the array (no pickle): one batch as a producer sends it."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def float32_hex(values) -> list:
    """float32 values of any shape (or anything numpy rounds to float32) as a flat list of 8-digit hex
    bit patterns: 1.0 -> "3f800000"."""
    a = np.ascontiguousarray(np.asarray(values, dtype=np.float32).reshape(-1))
    return ["%08x" % b for b in a.view(np.uint32)]


def float32_from_hex(*hexes: str) -> np.ndarray:
    """The float32 values of hex bit patterns (NaN payloads and signs kept): the inverse of float32_hex."""
    return np.array([int(h, 16) for h in hexes], dtype=np.uint32).view(np.float32)


def record_float32s(value) -> np.ndarray:
    """A qparams record's float or list of floats as float32: each JSON number read as a double, then
    rounded; the strings "NaN", "Infinity", "-Infinity" as those values."""
    values = value if isinstance(value, list) else [value]
    return np.array([NONFINITE[v] if isinstance(v, str) else float(v) for v in values], dtype=np.float32)


def canonical_bits(array) -> np.ndarray:
    """float32 bits, with every NaN alike and -0.0 as 0.0."""
    a = np.ascontiguousarray(np.asarray(array, dtype=np.float32).reshape(-1))
    b = a.view(np.int32).copy()
    b[np.isnan(a)] = 0x7FC00000
    b[a == 0] = 0
    return b


def same_float32s(x, y) -> bool:
    """Bit for bit the same float32 values (as canonical_bits: NaN == NaN, 0.0 == -0.0)."""
    bx, by = canonical_bits(x), canonical_bits(y)
    return bx.shape == by.shape and bool(np.array_equal(bx, by))
