"""qparams.torch's streaming observer without a broker: the Kafka record each batch becomes (stats
equal to torch's own observer's first update, bit for bit; NPY bytes; the step headers, also from a
real gloo process group), tensor names in eager and FX mode, and the job's config rules.

    /usr/bin/python3 -m unittest discover -s python/tests
"""
import io
import json
import os
import socket
import sys
import time
import unittest
import warnings

import numpy as np
import torch
import yaml
from torch import nn
from torch.ao.quantization import QConfig, QConfigMapping, QuantStub, default_weight_observer, prepare
from torch.ao.quantization import observer as torch_observers
from torch.ao.quantization.quantize_fx import prepare_fx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import qparams.torch as qt  # noqa: E402
from support import NOWHERE, Quiet  # noqa: E402

warnings.filterwarnings("ignore")


def make(kind="MovingAverageMinMaxObserver", **kwargs):
    obs = qt.observer(kind, **{**NOWHERE, **kwargs})()
    obs.qparams_name = "layer.output"
    return obs


def bits(values) -> list:
    return np.asarray(values, dtype=np.float32).reshape(-1).view(np.uint32).tolist()


def json_float32s(values) -> list:
    """The job's reading of stats: each JSON value as a double, then rounded to float32."""
    values = values if isinstance(values, list) else [values]
    special = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}
    return bits([special[v] if isinstance(v, str) else v for v in values])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = QuantStub()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.features(self.quant(x)).mean((2, 3)))


class Messages(Quiet):
    def test_stats_are_torch_observers_first_update(self):
        g = torch.Generator().manual_seed(1)
        x = torch.randn(5, 3, 4, 6, generator=g) * 1e3
        x[0, 0, 0, 0], x[1, 2, 3, 5] = 1e-45, float(np.finfo(np.float32).min)  # a subnormal, the lowest float32
        for kind, kwargs in (("MinMaxObserver", {}), ("MovingAverageMinMaxObserver", {}),
                             ("PerChannelMinMaxObserver", {"ch_axis": 1}),
                             ("MovingAveragePerChannelMinMaxObserver", {"ch_axis": -1})):
            ours = make(kind, **kwargs)
            key, value, headers = ours.qparams_message(x)
            reference = getattr(torch_observers, kind)(**kwargs)
            reference(x)
            stats = json.loads(value)
            self.assertEqual(key, b"layer.output")
            self.assertEqual(headers, [("content-type", b"application/json")])
            self.assertEqual(json_float32s(stats["min"]), bits(reference.min_val), kind)
            self.assertEqual(json_float32s(stats["max"]), bits(reference.max_val), kind)
            self.assertEqual(isinstance(stats["min"], list), "PerChannel" in kind)

    def test_stats_floats_round_trip_to_the_same_float32_bits(self):
        for v in (1e-45, 0.1, 16777217.0, float(np.finfo(np.float32).max), -1.1754942e-38, 2.0 ** -149 * 3):
            x = torch.tensor([v, v], dtype=torch.float32)
            stats = json.loads(make("MinMaxObserver").qparams_message(x)[1])
            self.assertEqual(json_float32s([stats["min"], stats["max"]]), bits(x), v)

    def test_nonfinite_stats_are_strings(self):
        stats = json.loads(make().qparams_message(torch.tensor([1.0, float("inf"), -2.0]))[1])
        self.assertEqual(stats, {"min": -2.0, "max": "Infinity"})
        stats = json.loads(make().qparams_message(torch.tensor([1.0, float("nan")]))[1])
        self.assertEqual(stats, {"min": "NaN", "max": "NaN"})

    def test_npy_keeps_float_dtypes_and_converts_others_as_torch(self):
        for x in (torch.randn(2, 3).half(), torch.randn(4, dtype=torch.float64),
                  torch.tensor([16777217, -3], dtype=torch.int64), torch.randn(3).bfloat16()):
            _, value, headers = make(send="npy").qparams_message(x)
            got = np.load(io.BytesIO(value), allow_pickle=False)
            want = x if x.dtype in (torch.float16, torch.float64) else x.to(torch.float32)
            self.assertEqual(headers, [("content-type", b"application/x-npy")])
            self.assertEqual(str(got.dtype), str(want.dtype).replace("torch.", ""))
            self.assertEqual(got.tobytes(), want.numpy().tobytes())

    def test_step_headers_given_and_counted_per_forward(self):
        obs = make(rank=2, world_size=4)
        x = torch.ones(3)
        started = time.monotonic()
        for step in range(3):
            headers = dict(obs.qparams_message(x)[2])
            self.assertEqual((headers["qparams.step"], headers["qparams.world-size"], headers["qparams.rank"]),
                             (str(step).encode(), b"4", b"2"))
            self.assertIs(obs(x), x)  # forward returns its input, the broker unreachable
        self.assertLess(time.monotonic() - started, 1.0, "forward waited on the network")
        self.assertEqual(obs.qparams_step, 3)
        with self.assertRaisesRegex(RuntimeError, "undelivered"):
            qt.flush(0.2)

    def test_no_step_headers_without_distributed_unless_asked(self):
        self.assertEqual([h for h, _ in make().qparams_message(torch.ones(2))[2]], ["content-type"])
        headers = dict(make(steps=True).qparams_message(torch.ones(2))[2])
        self.assertEqual((headers["qparams.world-size"], headers["qparams.rank"]), (b"1", b"0"))
        self.assertEqual(len(make(steps=False, rank=1, world_size=2).qparams_message(torch.ones(2))[2]), 1)

    def test_empty_batch_unsent_but_an_empty_shard_is_sent_as_npy(self):
        self.assertIsNone(make().qparams_message(torch.ones(0, 3)))
        _, value, headers = make(rank=0, world_size=2).qparams_message(torch.ones(0, 3))
        self.assertEqual(np.load(io.BytesIO(value)).shape, (0, 3))
        self.assertEqual(dict(headers)["content-type"], b"application/x-npy")
        self.assertEqual(dict(headers)["qparams.step"], b"0")

    def test_headers_from_torch_distributed(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
        try:
            headers = dict(make().qparams_message(torch.ones(2))[2])
            self.assertEqual((headers["qparams.step"], headers["qparams.world-size"], headers["qparams.rank"]),
                             (b"0", b"1", b"0"))
            self.assertEqual(len(make(steps=False).qparams_message(torch.ones(2))[2]), 1)
        finally:
            torch.distributed.destroy_process_group()

    def test_arguments_checked_when_the_factory_is_made(self):
        with self.assertRaisesRegex(ValueError, "rank 4 is not in"):
            qt.observer(rank=4, world_size=4)
        with self.assertRaisesRegex(ValueError, "send="):
            qt.observer(send="pickle")
        with self.assertRaises(NotImplementedError):  # torch's own refusal
            qt.observer("MinMaxObserver", qscheme=torch.per_channel_affine)

    def test_unnamed_observer_refuses_to_publish(self):
        with self.assertRaisesRegex(RuntimeError, "name_observers"):
            qt.observer(**NOWHERE)()(torch.ones(2))


class Names(Quiet):
    def test_eager_names_are_module_paths(self):
        model = Net().eval()
        model.qconfig = QConfig(activation=qt.observer(prefix="run/", **NOWHERE), weight=default_weight_observer)
        keys = qt.name_observers(prepare(model))
        self.assertEqual(list(keys), ["run/quant.output", "run/features.0.output", "run/fc.output"])

    def test_fx_names_follow_the_observed_node(self):
        qconfig = QConfig(activation=qt.observer(**NOWHERE), weight=default_weight_observer)
        model = prepare_fx(Net().eval(), QConfigMapping().set_global(qconfig), example_inputs=(torch.ones(1, 3, 8, 8),))
        keys = qt.name_observers(model)
        self.assertIn("x.output", keys)
        self.assertIn("features.0.output", keys)
        self.assertIn("fc.output", keys)
        # the max-pool and the mean share the conv's observer: one name, a batch per call
        self.assertNotIn("features.2.output", keys)
        self.assertNotIn("mean.output", keys)
        model(torch.ones(2, 3, 8, 8))
        self.assertEqual(keys["features.0.output"].qparams_step, 3)  # as torch updates it three times
        self.assertEqual(keys["fc.output"].qparams_step, 1)
        self.assertEqual(set(qt.observer_names(model)), set(keys))

    def test_config_rules_repeat_the_torch_arguments(self):
        model = Net().eval()
        model.qconfig = QConfig(activation=qt.observer(prefix="p/", averaging_constant=0.25, **NOWHERE),
                                weight=default_weight_observer)
        model.fc.qconfig = QConfig(activation=qt.observer("MinMaxObserver", dtype=torch.qint8, prefix="p/",
                                                          quant_min=-5, quant_max=10, reduce_range=True,
                                                          eps=2.0 ** -10, **NOWHERE), weight=default_weight_observer)
        config = yaml.safe_load(qt.config_yaml(prepare(model)))
        self.assertEqual(config["observers"], [
            {"match": "p/fc.output", "observer": "MinMaxObserver", "dtype": "qint8", "qscheme": "per_tensor_affine",
             "reduce_range": True, "quant_min": -5, "quant_max": 10, "eps": 2.0 ** -10},
            {"match": "p/*", "observer": "MovingAverageMinMaxObserver", "averaging_constant": 0.25,
             "dtype": "quint8", "qscheme": "per_tensor_affine", "reduce_range": False}])
        rules = qt.config_rules(prepare(model), match_prefix="*/", collapse=False)
        self.assertEqual([r["match"] for r in rules], ["*/quant.output", "*/features.0.output", "*/fc.output"])


if __name__ == "__main__":
    unittest.main()
