"""Shared by e2e/lib/torch_loop.py and e2e/lib/torch_ddp.py: the small CNN both calibrate, its
eager and FX preparation with torch's or qparams' observers, the bit-for-bit comparison of two
converted int8 models, reading the job's records with a deadline (each validated against the contract's
JSON Schema), and the checks' tally.
"""
import copy
import json
import os
import sys
import time
import uuid
import warnings
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import (DeQuantStub, MinMaxObserver, MovingAverageMinMaxObserver,
                                   PerChannelMinMaxObserver, QConfig, QConfigMapping, QuantStub, convert,
                                   fuse_modules, prepare)
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import qparams.torch as qt  # noqa: E402 (python/ is on the path only now)
from qparams.wire import float32_hex  # noqa: E402

warnings.filterwarnings("ignore")  # torch 1.13's deprecation notes on reduce_range and FX
ENGINE = "qnnpack" if "qnnpack" in torch.backends.quantized.supported_engines else "onednn"
# The observers both sides use: activations a moving average (the input and fc2 a plain min/max),
# weights per output channel, symmetric (torch's own, in both: weights are not streamed).
AVERAGING = 0.05
WEIGHT = PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
TORCH_ACT = MovingAverageMinMaxObserver.with_args(averaging_constant=AVERAGING, dtype=torch.quint8)
TORCH_MINMAX = MinMaxObserver.with_args(dtype=torch.quint8)


class Net(nn.Module):
    """conv-bn-relu, max-pool, conv-bn-relu, linear-relu, linear; QuantStub/DeQuantStub for eager."""

    def __init__(self):
        super().__init__()
        self.quant, self.dequant = QuantStub(), DeQuantStub()
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, 8, 3, padding=1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
            ("pool", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(8, 16, 3)), ("bn2", nn.BatchNorm2d(16)), ("relu2", nn.ReLU())]))
        self.flatten = nn.Flatten()
        self.fc1, self.relu3, self.fc2 = nn.Linear(16 * 6 * 6, 32), nn.ReLU(), nn.Linear(32, 10)
        self.stubs = True

    def forward(self, x):
        if self.stubs:
            x = self.quant(x)
        x = self.fc2(self.relu3(self.fc1(self.flatten(self.features(x)))))
        return self.dequant(x) if self.stubs else x


def make_model(seed: int) -> Net:
    """The float model, its batch norms given non-trivial running statistics."""
    torch.manual_seed(seed)
    model = Net()
    for bn in (model.features.bn1, model.features.bn2):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    return model.eval()


def batch(seed: int, index: int, size: int) -> torch.Tensor:
    """Calibration batch `index`: its own generator, so any process makes the same one."""
    g = torch.Generator().manual_seed(seed * 100003 + index)
    return torch.randn(size, 3, 16, 16, generator=g) * (1.0 + 0.1 * (index % 7)) + 0.05 * index


def prepare_model(model: Net, mode: str, act, minmax) -> nn.Module:
    """Eager (fused, QuantStub) or FX: act observes the activations, minmax the input (eager) and
    fc2's output (both), WEIGHT the weights."""
    model = copy.deepcopy(model)
    if mode == "eager":
        fuse_modules(model, [["features.conv1", "features.bn1", "features.relu1"],
                             ["features.conv2", "features.bn2", "features.relu2"], ["fc1", "relu3"]], inplace=True)
        model.qconfig = QConfig(activation=act, weight=WEIGHT)
        model.quant.qconfig = model.fc2.qconfig = QConfig(activation=minmax, weight=WEIGHT)
        return prepare(model)
    model.stubs = False
    mapping = QConfigMapping().set_global(QConfig(activation=act, weight=WEIGHT)) \
        .set_module_name("fc2", QConfig(activation=minmax, weight=WEIGHT))
    return prepare_fx(model, mapping, example_inputs=(torch.zeros(1, 3, 16, 16),))


def convert_model(prepared: nn.Module, mode: str) -> nn.Module:
    return convert(prepared) if mode == "eager" else convert_fx(copy.deepcopy(prepared))


def _bits(t: torch.Tensor) -> bytes:
    return t.detach().contiguous().cpu().numpy().tobytes()


def describe(value):
    """A value of a converted model's state_dict as comparable bytes: a quantized tensor's dtype,
    shape, int_repr bytes, scale(s) and zero point(s) bits; a float tensor's bits; tuples item by item."""
    if isinstance(value, torch.Tensor) and value.is_quantized:
        if value.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
            q = (_bits(value.q_per_channel_scales().to(torch.float64)), _bits(value.q_per_channel_zero_points()),
                 value.q_per_channel_axis())
        else:
            q = (np.float64(value.q_scale()).tobytes(), value.q_zero_point())
        return ("quantized", str(value.dtype), tuple(value.shape), str(value.qscheme()), q, _bits(value.int_repr()))
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape), _bits(value))
    if isinstance(value, (tuple, list)):
        return tuple(describe(v) for v in value)
    return ("value", repr(value))


class Checks:
    """Named checks, each printed when it fails; summary() is the closing 'N passed, M failed'."""

    def __init__(self, name: str):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, label: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"{self.name}: FAIL {label}{': ' + detail if detail else ''}", flush=True)
        return ok

    def summary(self) -> int:
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed or not self.passed else 0


def compare_converted(checks: Checks, label: str, reference: nn.Module, got: nn.Module, x: torch.Tensor):
    """Every state_dict entry (quantized weights, scales, zero points, biases) and the outputs on x,
    byte for byte."""
    ref_state, got_state = reference.state_dict(), got.state_dict()
    checks.check(f"{label}: same state_dict keys", list(ref_state) == list(got_state),
                 f"{sorted(set(ref_state) ^ set(got_state))}")
    for key in ref_state:
        if key in got_state:
            checks.check(f"{label}: {key}", describe(ref_state[key]) == describe(got_state[key]),
                         "differs from the reference")
    with torch.no_grad():
        want, have = reference(x), got(x)
    checks.check(f"{label}: outputs on the test batch", _bits(want) == _bits(have),
                 f"{int((want != have).sum())} of {want.numel()} values differ")


def observer_bits(prepared: nn.Module) -> dict:
    """min_val/max_val of every observer as float32 hex bit patterns, by tensor name."""
    return {name: (float32_hex(o.min_val.detach().cpu().numpy()), float32_hex(o.max_val.detach().cpu().numpy()))
            for name, o in qt.observer_names(prepared).items()}


def _consume(bootstrap_servers: str, topic: str, on_message, timeout: float) -> None:
    """Reads the topic from the beginning (read_committed), passing every message to on_message
    until it returns True; raises TimeoutError after timeout s."""
    from confluent_kafka import Consumer, KafkaError
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": f"torch-e2e-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed", "topic.metadata.refresh.interval.ms": 1000})
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue  # the job creates its output topic when it starts
                raise RuntimeError(f"reading {topic}: {msg.error()}")
            if on_message(msg):
                return
        raise TimeoutError(f"the records on {topic} did not all come within {timeout:g} s")
    finally:
        consumer.close()


RECORD_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schema",
                             "qparams-record.schema.json")


def read_records(bootstrap_servers: str, topic: str, done, timeout: float, checks: Checks) -> None:
    """The job's records (dicts) from the beginning of the topic to done(record) until it returns True.
    Every record is validated against the contract's JSON Schema (python3-jsonschema): one failed
    check per invalid record (the first 5), and one check for them all."""
    import jsonschema  # Debian: python3-jsonschema
    with open(RECORD_SCHEMA, encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    counts = {"read": 0, "invalid": 0}

    def on_message(m):
        if m.value() is None:
            return False
        record = json.loads(m.value())
        counts["read"] += 1
        errors = [f"{'/'.join(map(str, e.path)) or '(record)'}: {e.message}" for e in validator.iter_errors(record)]
        if errors:
            counts["invalid"] += 1
            if counts["invalid"] <= 5:
                checks.check(f"{record.get('tensor')}: valid by qparams-record.schema.json", False, "; ".join(errors[:3]))
        return done(record)
    try:
        _consume(bootstrap_servers, topic, on_message, timeout)
    finally:
        checks.check(f"{counts['read']} records of {topic} valid by qparams-record.schema.json",
                     counts["read"] > 0 and counts["invalid"] == 0, f"{counts['invalid']} invalid")


def read_input(bootstrap_servers: str, topic: str, prefix: str, accept, done, timeout: float) -> None:
    """The input records whose key starts with prefix, as accept(key, value, headers), until done()."""
    def on_message(m):
        key = m.key().decode() if m.key() else ""
        if key.startswith(prefix):
            accept(key, m.value(), m.headers())
        return done()
    _consume(bootstrap_servers, topic, on_message, timeout)
