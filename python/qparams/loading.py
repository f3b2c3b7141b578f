"""qparams.torch.load: the job's records into a prepared model's observers, so that torch's own
calculate_qparams, convert and convert_fx use the ranges the job computed."""
import warnings

import numpy as np
import torch
from torch.ao.quantization import observer as torch_observers

from . import records as record_sources
from .naming import observer_names
from .streaming import KINDS, _Streaming
from .wire import record_float32s


class QParamsLoadError(RuntimeError):
    """load(..., on_problem="raise") found observers without records, records without observers,
    invalid records or records whose observer settings differ from the model's."""


class LoadReport:
    """What load() did. loaded, missing (observers without a record) and unused (records without
    an observer) are lists of tensor names; invalid and mismatched map names to one-line reasons
    (those observers were not loaded, except a scale/zero-point mismatch found after loading);
    other counts the records outside the prefix."""

    def __init__(self):
        self.loaded, self.missing, self.unused = [], [], []
        self.invalid, self.mismatched = {}, {}
        self.other = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unused or self.invalid or self.mismatched)

    def __str__(self):
        parts = [f"{len(self.loaded)} observers loaded"]
        for label, items in (("without a record", self.missing), ("records without an observer", self.unused)):
            if items:
                parts.append(f"{len(items)} {label} ({', '.join(items[:3])}{', ...' if len(items) > 3 else ''})")
        for label, items in (("invalid", self.invalid), ("mismatched", self.mismatched)):
            if items:
                name, reason = next(iter(items.items()))
                parts.append(f"{len(items)} {label} (first: {name}: {reason})")
        return "qparams.torch.load: " + "; ".join(parts)

    __repr__ = __str__


def _kind(obs) -> str:
    if isinstance(obs, _Streaming):
        return obs.qparams_kind
    return type(obs).__name__


def _short(value) -> str:
    return str(value).replace("torch.", "")


def _settings_mismatch(obs, r: dict):
    """Why the record's observer is not this torch observer, or None."""
    if _kind(obs) not in KINDS:
        return f"{type(obs).__name__} is not one of qparams' observers"
    wanted = {"observer": _kind(obs), "dtype": _short(obs.dtype), "qscheme": _short(obs.qscheme),
              "quant_min": obs.quant_min, "quant_max": obs.quant_max}
    if hasattr(obs, "ch_axis"):
        wanted["ch_axis"] = obs.ch_axis
    for key, value in wanted.items():
        if r.get(key) != value:
            return f"record {key} {r.get(key)!r}, the model's observer has {value!r}"
    if hasattr(obs, "averaging_constant") and \
            np.float32(r.get("averaging_constant", np.nan)) != np.float32(obs.averaging_constant):
        return f"record averaging_constant {r.get('averaging_constant')!r}, the model's observer has " \
               f"{obs.averaging_constant!r}"
    return None


def _set(buffer: torch.Tensor, values: np.ndarray, per_channel: bool):
    t = torch.from_numpy(values).to(buffer.device)
    if per_channel:
        buffer.resize_(t.shape)
        buffer.copy_(t)
    else:
        buffer.copy_(t.reshape(()))


def _qparams_mismatch(obs, r: dict):
    """Why torch's calculate_qparams on the loaded state differs from the record's scale and zero
    point (compared as float32 bits; integer zero points as integers), or None."""
    scale, zero_point = obs.calculate_qparams()
    got_scale = scale.detach().cpu().numpy().astype(np.float32).reshape(-1)
    if not np.array_equal(got_scale.view(np.int32), record_float32s(r["scale"]).view(np.int32)):
        return f"torch computes scale {got_scale.tolist()} from the record's range, record says {r['scale']}"
    zp = zero_point.detach().cpu().reshape(-1)
    want = r["zero_point"] if isinstance(r["zero_point"], list) else [r["zero_point"]]
    if zp.is_floating_point():
        same = np.array_equal(zp.numpy().astype(np.float32).view(np.int32), record_float32s(want).view(np.int32))
    else:
        same = zp.tolist() == want
    return None if same else f"torch computes zero_point {zp.tolist()}, record says {r['zero_point']}"


def load(model: torch.nn.Module, records=None, *, bootstrap_servers=None, topic="qparams", prefix=None,
         on_problem="warn", timeout=60.0, consumer_config=None) -> LoadReport:
    """Sets min_val/max_val of every observer of the prepared model (qparams' streaming observers
    and torch's MinMax-family ones) from the latest record of its tensor; then torch's convert or
    convert_fx quantizes with them.

    records: an iterable of record dicts, a JSON-lines file, or None to read the output topic
    (bootstrap_servers, topic; read_committed, to the end offsets seen at the start, tombstones
    remove). Names as qparams.torch.observer_names; a streaming observer's key is its own prefix +
    name, a torch observer's is prefix + name, where prefix defaults to the streaming observers'
    common prefix. Only records whose tensor starts with that prefix are considered.
    on_problem: "warn" (one-line warning), "raise" (QParamsLoadError) or "ignore"; the report is
    returned either way."""
    if on_problem not in ("warn", "raise", "ignore"):
        raise ValueError(f"qparams.torch.load: on_problem={on_problem!r}, expected warn, raise or ignore")
    named = observer_names(model)
    if prefix is None:
        prefixes = {m.qparams_settings["prefix"] for m in named.values() if isinstance(m, _Streaming)}
        if len(prefixes) > 1:
            raise ValueError(f"qparams.torch.load: the streaming observers have several prefixes "
                             f"{sorted(prefixes)}: pass prefix=")
        prefix = prefixes.pop() if prefixes else ""
    observers = {}
    for name, obs in named.items():
        own = obs.qparams_settings["prefix"] if isinstance(obs, _Streaming) else prefix
        observers[own + name] = obs
    table = record_sources.source(records, bootstrap_servers, topic, timeout, consumer_config)
    report = LoadReport()
    for tensor in table:
        if not tensor.startswith(prefix):
            report.other += 1
        elif tensor not in observers:
            report.unused.append(tensor)
    for key, obs in observers.items():
        r = table.get(key)
        if r is None:
            report.missing.append(key)
            continue
        if r.get("status", "ok") != "ok":
            report.invalid[key] = r.get("reason") or f"status {r.get('status')!r}"
            continue
        reason = _settings_mismatch(obs, r)
        if reason is None:
            per_channel = isinstance(obs, torch_observers.PerChannelMinMaxObserver)
            with torch.no_grad():
                _set(obs.min_val, record_float32s(r["min_val"]), per_channel)
                _set(obs.max_val, record_float32s(r["max_val"]), per_channel)
            report.loaded.append(key)
            reason = _qparams_mismatch(obs, r)
        if reason is not None:
            report.mismatched[key] = reason
    if not report.ok and on_problem == "raise":
        raise QParamsLoadError(str(report))
    if not report.ok and on_problem == "warn":
        warnings.warn(str(report), stacklevel=2)
    return report
