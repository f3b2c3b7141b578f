"""qparams.torch.load without a broker: records made from real torch observers (as the job writes
them: JSON floats, "NaN"/"Infinity" strings) go into a prepared model's observers, streaming and
torch's own, with the exact float32 bits, so that torch's convert gives the same int8 model; and
every problem is reported: observers without records, records without observers, invalid records,
settings that are not the model's.

    /usr/bin/python3 -m unittest discover -s python/tests
"""
import copy
import json
import os
import sys
import tempfile
import unittest
import warnings

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import (MinMaxObserver, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver,
                                   QConfig, QuantStub, DeQuantStub, convert, default_per_channel_weight_observer,
                                   prepare)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import qparams.torch as qt  # noqa: E402
from support import NOWHERE, Quiet  # noqa: E402

warnings.filterwarnings("ignore")


WEIGHT = default_per_channel_weight_observer


def json_floats(t: torch.Tensor):
    """float32 values as the job prints them: numbers, or "NaN"/"Infinity"/"-Infinity"."""
    out = [v if np.isfinite(v) else "NaN" if np.isnan(v) else "Infinity" if v > 0 else "-Infinity"
           for v in t.detach().reshape(-1).tolist()]
    return out if t.dim() else out[0]


def record_of(tensor: str, obs) -> dict:
    """The record the job writes for a torch observer's state, through JSON text and back."""
    scale, zero_point = obs.calculate_qparams()
    r = {"tensor": tensor, "status": "ok", "observer": type(obs).__name__, "dtype": str(obs.dtype)[6:],
         "qscheme": str(obs.qscheme)[6:], "quant_min": obs.quant_min, "quant_max": obs.quant_max, "batches": 3,
         "min_val": json_floats(obs.min_val), "max_val": json_floats(obs.max_val),
         "scale": json_floats(scale if obs.min_val.dim() else scale.reshape(())),
         "zero_point": zero_point.reshape(-1).tolist() if obs.min_val.dim() else int(zero_point)}
    if hasattr(obs, "averaging_constant"):
        r["averaging_constant"] = obs.averaging_constant
    if hasattr(obs, "ch_axis"):
        r["ch_axis"] = obs.ch_axis
    return json.loads(json.dumps(r))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant, self.dequant = QuantStub(), DeQuantStub()
        self.conv, self.relu, self.fc = nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        return self.dequant(self.fc(self.relu(self.conv(self.quant(x))).flatten(1)))


def prepared(act, conv_act=None, quant_act=None) -> nn.Module:
    torch.manual_seed(0)
    model = Net().eval()
    model.qconfig = QConfig(activation=act, weight=WEIGHT)
    model.conv.qconfig = QConfig(activation=conv_act or act, weight=WEIGHT)
    model.quant.qconfig = QConfig(activation=quant_act or act, weight=WEIGHT)
    return prepare(model)


def calibrated(**observers) -> nn.Module:
    reference = prepared(**observers)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for i in range(4):
            reference(torch.randn(2, 3, 8, 8, generator=g) * (i + 1))
    return reference


def records_of(model: nn.Module, prefix="") -> list:
    return [record_of(prefix + name, obs) for name, obs in qt.observer_names(model).items()]


def state_bits(model: nn.Module) -> dict:
    return {n: (o.min_val.numpy().tobytes(), o.max_val.numpy().tobytes()) for n, o in qt.observer_names(model).items()}


class Load(Quiet):
    def setUp(self):
        super().setUp()
        torch.backends.quantized.engine = "qnnpack"

    def test_loaded_model_converts_to_the_reference_int8_model(self):
        act = MovingAverageMinMaxObserver.with_args(averaging_constant=0.3)
        reference = calibrated(act=act, quant_act=MinMaxObserver)
        target = prepared(act=qt.observer(averaging_constant=0.3, prefix="r/", **NOWHERE), quant_act=MinMaxObserver)
        report = qt.load(target, records_of(reference, "r/"), on_problem="raise")
        self.assertEqual(sorted(report.loaded), sorted("r/" + n for n in qt.observer_names(reference)))
        self.assertEqual(state_bits(target), state_bits(reference))
        x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(9))
        want, got = convert(reference), convert(target)
        self.assertEqual(want.conv.scale, got.conv.scale)
        self.assertEqual(want(x).numpy().tobytes(), got(x).numpy().tobytes())

    def test_per_channel_buffers_are_resized_and_exact(self):
        per_channel = MovingAveragePerChannelMinMaxObserver.with_args(ch_axis=1, averaging_constant=0.5)
        reference = calibrated(act=MinMaxObserver, conv_act=per_channel)
        target = prepared(act=MinMaxObserver, conv_act=qt.observer(
            "MovingAveragePerChannelMinMaxObserver", ch_axis=1, averaging_constant=0.5, **NOWHERE))
        self.assertEqual(target.conv.activation_post_process.min_val.numel(), 0)
        report = qt.load(target, records_of(reference), on_problem="raise")
        self.assertEqual(len(report.loaded), 3)
        self.assertEqual(state_bits(target), state_bits(reference))
        self.assertEqual(target.conv.activation_post_process.min_val.shape, (4,))

    def test_json_numbers_become_float32_and_strings_nonfinite(self):
        reference = prepared(act=MinMaxObserver)
        obs = reference.fc.activation_post_process
        obs.min_val.fill_(float("-inf"))
        obs.max_val.fill_(0.1)  # the float32 nearest 0.1, printed as its double 0.10000000149011612
        records = records_of(reference)
        self.assertEqual(records[-1]["min_val"], "-Infinity")
        target = prepared(act=MinMaxObserver)
        report = qt.load(target, [r for r in records if r["tensor"] == "fc.output"], on_problem="ignore")
        self.assertEqual(report.loaded, ["fc.output"])
        self.assertEqual(report.mismatched, {})  # torch's scale and zero point from the loaded state = the record's
        loaded = target.fc.activation_post_process
        self.assertEqual(float(loaded.min_val), float("-inf"))
        self.assertEqual(loaded.max_val.numpy().tobytes(), np.float32(0.1).tobytes())
        self.assertEqual(sorted(report.missing), ["conv.output", "quant.output"])

    def test_problems_are_reported_not_ignored(self):
        reference = calibrated(act=MinMaxObserver)
        records = records_of(reference, "p/")
        records[0]["dtype"] = "qint8"  # quant.output: not the model's observer
        records[1] = {"tensor": "p/conv.output", "status": "invalid", "reason": "NaN state", "min_val": "NaN"}
        records.append({**records[2], "tensor": "p/head.output"})
        records.append({**records[2], "tensor": "other/fc.output"})
        target = prepared(act=qt.observer("MinMaxObserver", prefix="p/", **NOWHERE))
        report = qt.load(target, records, on_problem="ignore")
        self.assertFalse(report.ok)
        self.assertEqual((report.loaded, report.unused, report.other), (["p/fc.output"], ["p/head.output"], 1))
        self.assertEqual(list(report.invalid.items()), [("p/conv.output", "NaN state")])
        self.assertRegex(report.mismatched["p/quant.output"], "dtype 'qint8'.*'quint8'")
        self.assertEqual(float(target.conv.activation_post_process.min_val), float("inf"))  # not loaded
        with self.assertRaisesRegex(qt.QParamsLoadError, "1 records without an observer"):
            qt.load(target, records, on_problem="raise")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            qt.load(target, records[2:3], on_problem="warn")
        self.assertRegex(str(caught[-1].message), "2 without a record")

    def test_scale_that_torch_would_not_compute_is_a_mismatch(self):
        reference = calibrated(act=MinMaxObserver)
        records = records_of(reference)
        records[2]["scale"] = float(np.nextafter(np.float32(records[2]["scale"]), np.float32(1)))  # one ulp up
        target = prepared(act=MinMaxObserver)
        report = qt.load(target, records, on_problem="ignore")
        self.assertEqual(list(report.mismatched), ["fc.output"])
        self.assertIn("scale", report.mismatched["fc.output"])

    def test_averaging_constant_must_match(self):
        reference = calibrated(act=MovingAverageMinMaxObserver.with_args(averaging_constant=0.25))
        target = prepared(act=MovingAverageMinMaxObserver.with_args(averaging_constant=0.5))
        self.assertEqual(len(qt.load(target, records_of(reference), on_problem="ignore").mismatched), 3)


class Sources(Quiet):
    def test_latest_record_wins_and_tombstones_remove(self):
        a1, a2, b = {"tensor": "a", "batches": 1}, {"tensor": "a", "batches": 2}, {"tensor": "b", "batches": 1}
        self.assertEqual(dict(qt.latest([a1, b, a2])), {"a": a2, "b": b})
        self.assertEqual(dict(qt.latest([("a", a1), ("b", b), ("a", None)])), {"b": b})
        with self.assertRaisesRegex(ValueError, "no \"tensor\""):
            qt.latest([{"batches": 1}])

    def test_records_file(self):
        reference = calibrated(act=MinMaxObserver)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "records.jsonl")
            with open(path, "w") as f:
                f.write("".join(json.dumps(r) + "\n\n" for r in records_of(reference)))
            target = copy.deepcopy(prepared(act=MinMaxObserver))
            self.assertTrue(qt.load(target, path, on_problem="raise").ok)
            self.assertEqual(state_bits(target), state_bits(reference))
            with open(path, "a") as f:
                f.write("{not json\n")
            with self.assertRaisesRegex(ValueError, r"records.jsonl:7: not a JSON record"):
                qt.from_file(path)


if __name__ == "__main__":
    unittest.main()
