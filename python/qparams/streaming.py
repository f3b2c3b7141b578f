"""The streaming observers behind qparams.torch: torch's four MinMax-family observers whose forward
publishes the batch to Kafka (keyed by the observer's tensor name) instead of updating min_val and
max_val. The state arrives later from the job's records (qparams.torch.load), so that torch's own
calculate_qparams, convert and convert_fx use the ranges the job computed.

Import it as qparams.torch; this module only holds the machinery.
"""
import json
import math
import os
import threading
import time

import numpy as np
import torch
from torch.ao.quantization import observer as torch_observers

from .wire import npy_bytes

KINDS = ("MovingAverageMinMaxObserver", "MinMaxObserver", "PerChannelMinMaxObserver",
         "MovingAveragePerChannelMinMaxObserver")
SENDS = ("stats", "npy")
STEP, WORLD_SIZE, RANK = "qparams.step", "qparams.world-size", "qparams.rank"
JSON, NPY = b"application/json", b"application/x-npy"
CONTENT_TYPES = {"stats": JSON.decode(), "npy": NPY.decode()}

_lock = threading.Lock()
_producers = {}  # (pid, bootstrap servers, config items) -> _Sender: one librdkafka producer each


class _Sender:
    """One confluent_kafka Producer of this process and the delivery errors it reported."""

    def __init__(self, config: dict):
        from confluent_kafka import Producer  # only a publishing process needs the client
        self.producer = Producer(config)
        self.servers = config["bootstrap.servers"]
        self.errors = []
        self.sent = 0

    def delivered(self, err, msg):
        if err is not None:
            self.errors.append(f"{msg.topic()}/{msg.key().decode(errors='replace')}: {err}")

    def send(self, topic, key, value, headers, queue_timeout):
        """produce + poll(0): never waits on the network. Only a full local queue (the broker
        unreachable or slower than the model) waits, serving deliveries, for up to queue_timeout."""
        deadline = time.monotonic() + queue_timeout
        while True:
            try:
                self.producer.produce(topic, key=key, value=value, headers=headers,
                                      on_delivery=self.delivered)
                break
            except BufferError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"qparams: the Kafka send queue for {self.servers} stayed full "
                                       f"for {queue_timeout:g} s (broker down or too slow?)") from None
                self.producer.poll(0.05)
        self.sent += 1
        self.producer.poll(0)


def _sender(bootstrap_servers: str, producer_config: dict) -> _Sender:
    config = {"bootstrap.servers": bootstrap_servers, "enable.idempotence": True, "linger.ms": 10,
              **(producer_config or {})}
    key = (os.getpid(), bootstrap_servers, tuple(sorted((k, str(v)) for k, v in config.items())))
    with _lock:
        if key not in _producers:
            _producers[key] = _Sender(config)
        return _producers[key]


def flush(timeout: float = 60.0) -> int:
    """Waits until every batch this process published is acknowledged by its broker (or timeout s).
    Returns how many batches this process has published; raises RuntimeError (one line) when some
    are still undelivered, or a delivery failed since the last flush."""
    deadline = time.monotonic() + timeout
    problems = []
    for (pid, servers, _), sender in list(_producers.items()):
        if pid != os.getpid():
            continue
        left = sender.producer.flush(max(0.0, deadline - time.monotonic()))
        if left:
            problems.append(f"{left} batches to {servers} undelivered after {timeout:g} s")
        if sender.errors:
            problems.append(f"{len(sender.errors)} failed deliveries to {servers}, first: {sender.errors[0]}")
            sender.errors = []
    if problems:
        raise RuntimeError("qparams.torch.flush: " + "; ".join(problems))
    return sum(s.sent for (pid, _, _), s in _producers.items() if pid == os.getpid())


def distributed_place():
    """(rank, world_size) of torch.distributed when it is initialized, else None."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return None


class _Streaming:
    """The publishing half of a streaming observer; the torch class after it in the bases gives
    the buffers, calculate_qparams and state_dict loading."""

    def __init__(self, *, bootstrap_servers="localhost:9092", topic="activations", send="stats",
                 prefix="", steps=None, rank=None, world_size=None, producer_config=None,
                 queue_timeout=60.0, **torch_kwargs):
        super().__init__(**torch_kwargs)
        if send not in SENDS:
            raise ValueError(f"qparams observer: send={send!r}, expected one of {', '.join(SENDS)}")
        if (rank is None) != (world_size is None):
            raise ValueError("qparams observer: give rank and world_size together, or neither")
        if rank is not None and not 0 <= int(rank) < int(world_size):
            raise ValueError(f"qparams observer: rank {rank} is not in [0, {world_size})")
        self.qparams_settings = {"bootstrap_servers": bootstrap_servers, "topic": topic, "send": send,
                                 "prefix": prefix, "steps": steps, "rank": rank,
                                 "world_size": world_size, "producer_config": dict(producer_config or {}),
                                 "queue_timeout": queue_timeout}
        self.qparams_torch_kwargs = dict(torch_kwargs)  # as given: the config rule repeats them
        self.qparams_name = None  # set by qparams.torch.name_observers
        self.qparams_step = 0  # this observer's forward counter: the qparams.step header

    @property
    def qparams_kind(self) -> str:
        """The torch observer this one stands for, and the job's config rule names."""
        return next(c.__name__ for c in type(self).__mro__ if c.__name__ in KINDS)

    @property
    def qparams_key(self) -> str:
        """The Kafka key (tensor name) of this observer's batches: prefix + name."""
        if self.qparams_name is None:
            raise RuntimeError("qparams observer has no name: call qparams.torch.name_observers(model) "
                               "on the prepared model before running it")
        return self.qparams_settings["prefix"] + self.qparams_name

    def qparams_place(self):
        """(rank, world_size) for the step headers, or None for no step headers: given ones, else
        torch.distributed's once initialized (steps=None or True), else (0, 1) with steps=True."""
        s = self.qparams_settings
        if s["steps"] is False:
            return None
        if s["rank"] is not None:
            return int(s["rank"]), int(s["world_size"])
        place = distributed_place()
        if place is None and s["steps"]:
            return 0, 1
        return place

    def qparams_message(self, x: torch.Tensor):
        """(key, value, headers) of the Kafka record for batch x, or None for an empty batch that
        goes unsent (no step headers: torch ignores empty batches; with them an empty shard is sent
        as an empty NPY, so that the job knows this rank's part of the step has come)."""
        place = self.qparams_place()
        if x.numel() == 0 and place is None:
            return None
        if self.qparams_settings["send"] == "npy" or x.numel() == 0:
            value, ctype = npy_bytes(_as_numpy(x)), NPY
        else:
            value, ctype = _stats_json(self, x), JSON
        headers = [("content-type", ctype)]
        if place is not None:
            rank, world_size = place
            headers += [(STEP, str(self.qparams_step).encode()), (WORLD_SIZE, str(world_size).encode()),
                        (RANK, str(rank).encode())]
        return self.qparams_key.encode(), value, headers

    def forward(self, x_orig):
        message = self.qparams_message(x_orig)
        if message is not None:
            s = self.qparams_settings
            sender = _sender(s["bootstrap_servers"], s["producer_config"])
            sender.send(s["topic"], *message, queue_timeout=s["queue_timeout"])
            self.qparams_step += 1
        return x_orig

    def extra_repr(self):
        return f"name={self.qparams_name!r}, {super().extra_repr()}"


def _as_numpy(x: torch.Tensor) -> np.ndarray:
    """The batch as numpy: float16/32/64 as they are (the job converts them as x.to(float32)
    does), any other dtype converted by torch itself first."""
    x = x.detach()
    if x.dtype not in (torch.float16, torch.float32, torch.float64):
        x = x.to(torch.float32)
    return x.cpu().numpy()


def _floats(t: torch.Tensor):
    """float32 values as JSON values: the double of each float32 (repr round-trips it exactly),
    the strings "NaN", "Infinity", "-Infinity" for non-finite ones."""
    out = []
    for v in t.reshape(-1).tolist():
        out.append(v if math.isfinite(v) else "NaN" if v != v else "Infinity" if v > 0 else "-Infinity")
    return out


def _stats_json(obs, x: torch.Tensor) -> bytes:
    """{"min": m, "max": M} (lists per channel), reduced as torch's observer reduces: cast to
    float32, then aminmax; per channel, ch_axis moved to the front and the rest flattened."""
    x = x.detach().to(torch.float32)
    if isinstance(obs, torch_observers.PerChannelMinMaxObserver):
        axes = list(range(x.dim()))
        axes[obs.ch_axis] = 0
        axes[0] = obs.ch_axis
        lo, hi = torch.aminmax(torch.flatten(x.permute(axes), start_dim=1), dim=1)
        stats = {"min": _floats(lo.cpu()), "max": _floats(hi.cpu())}
    else:
        lo, hi = torch.aminmax(x)
        stats = {"min": _floats(lo.cpu())[0], "max": _floats(hi.cpu())[0]}
    return json.dumps(stats, separators=(",", ":")).encode()


class StreamingMovingAverageMinMaxObserver(_Streaming, torch_observers.MovingAverageMinMaxObserver):
    """torch's MovingAverageMinMaxObserver whose forward publishes each batch to qparams."""


class StreamingMinMaxObserver(_Streaming, torch_observers.MinMaxObserver):
    """torch's MinMaxObserver whose forward publishes each batch to qparams."""


class StreamingPerChannelMinMaxObserver(_Streaming, torch_observers.PerChannelMinMaxObserver):
    """torch's PerChannelMinMaxObserver whose forward publishes each batch to qparams."""


class StreamingMovingAveragePerChannelMinMaxObserver(
        _Streaming, torch_observers.MovingAveragePerChannelMinMaxObserver):
    """torch's MovingAveragePerChannelMinMaxObserver whose forward publishes each batch to qparams."""


CLASSES = {c.__mro__[2].__name__: c for c in (
    StreamingMovingAverageMinMaxObserver, StreamingMinMaxObserver, StreamingPerChannelMinMaxObserver,
    StreamingMovingAveragePerChannelMinMaxObserver)}


def observer(kind: str = "MovingAverageMinMaxObserver", **kwargs):
    """The factory to give QConfig(activation=...): kind is one of the four torch observers, the
    qparams keywords (bootstrap_servers, topic, send, prefix, steps, rank, world_size,
    producer_config, queue_timeout) say where and how to publish, the rest (dtype, qscheme,
    averaging_constant, ch_axis, reduce_range, quant_min, quant_max, eps) go to torch's
    constructor and must equal the job's config rule for the tensor."""
    if kind not in CLASSES:
        raise ValueError(f"qparams observer: kind {kind!r}, expected one of {', '.join(KINDS)}")
    factory = CLASSES[kind].with_args(**kwargs)
    factory()  # torch's own checks of the arguments, now rather than inside prepare
    return factory
