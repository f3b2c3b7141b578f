#!/usr/bin/python3
"""Calibration producer: runs a small torch model over calibration batches and sends every activation
(and, with --weights, every conv/linear weight once) to Kafka as NPY bytes, keyed by tensor name.

What it sent is written as a manifest (JSON lines {"tensor": ..., "file": ...}, in send order) next to
the NPY files themselves, so a checker can replay the same batches in the same order through torch's
own observers, and `bin/qparams calibrate --config ... --manifest DIR/manifest.jsonl` can too.

    /usr/bin/python3 examples/python/producer.py --bootstrap-servers 127.0.0.1:9092 --out var/sent
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from confluent_kafka import Producer
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from qparams.wire import npy_bytes  # noqa: E402 (python/ is on the path only now)


def small_cnn() -> nn.Module:
    """A small CNN whose leaf modules give 20 activation tensors (21 with the input)."""
    features = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 8, 3, padding=1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(8, 16, 3, padding=1)), ("bn2", nn.BatchNorm2d(16)), ("relu2", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(16, 16, 3, padding=1)), ("bn3", nn.BatchNorm2d(16)), ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(16, 16, 3, padding=1)), ("relu4", nn.ReLU()),
        ("pool2", nn.AdaptiveAvgPool2d(4)),
    ]))
    classifier = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(16 * 4 * 4, 64)), ("relu5", nn.ReLU()),
        ("fc2", nn.Linear(64, 32)), ("relu6", nn.ReLU()),
        ("fc3", nn.Linear(32, 10)), ("softmax", nn.Softmax(dim=1)),
    ]))
    return nn.Sequential(OrderedDict([("features", features), ("classifier", classifier)]))


def as_sent(name: str, tensor: torch.Tensor, batch: int) -> np.ndarray:
    """The array to send. The input goes as float32, float64 or float16 in turn and the classifier's
    2-D outputs in Fortran order every other batch: the job converts every NPY dtype and layout to
    float32 as torch's x.to(torch.float32) does, and the checker replays exactly these arrays."""
    array = tensor.detach().cpu().numpy()
    if name == "input":
        array = array.astype([np.float32, np.float64, np.float16][batch % 3])
    elif array.ndim == 2 and batch % 2 == 1:
        array = np.asfortranarray(array)
    return array


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="activations")
    parser.add_argument("--batches", type=int, default=50, help="calibration batches (default 50)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", action="store_true", help="also send each conv/linear weight once")
    parser.add_argument("--out", default="var/sent", help="folder for manifest.jsonl and the NPY files sent")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    model = small_cnn().eval()
    os.makedirs(os.path.join(args.out, "batches"), exist_ok=True)
    manifest = open(os.path.join(args.out, "manifest.jsonl"), "w", encoding="utf-8")

    # Idempotence keeps every tensor's batches in send order in its partition, retries or not.
    producer = Producer({"bootstrap.servers": args.bootstrap_servers, "enable.idempotence": True,
                         "linger.ms": 20, "compression.type": "lz4"})
    errors = []
    sent = 0

    def delivered(err, msg):
        if err is not None:
            errors.append(f"{msg.key().decode()}: {err}")

    def send(name: str, array: np.ndarray) -> None:
        nonlocal sent
        file = os.path.join("batches", f"{sent:06d}.npy")
        value = npy_bytes(array)
        with open(os.path.join(args.out, file), "wb") as f:
            f.write(value)
        manifest.write(json.dumps({"tensor": name, "file": file}) + "\n")
        producer.produce(args.topic, key=name.encode(), value=value,
                         headers={"content-type": b"application/x-npy"}, on_delivery=delivered)
        producer.poll(0)
        sent += 1

    if args.weights:
        for name, module in model.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                send(f"{name}.weight", module.weight.detach().numpy())

    activations = OrderedDict()

    def hook(name):
        def record(_module, _inputs, output):
            activations[f"{name}.output"] = output
        return record

    for name, module in model.named_modules():
        if len(list(module.children())) == 0:  # leaf modules: the ones a quantized model observes
            module.register_forward_hook(hook(name))

    with torch.no_grad():
        for batch in range(args.batches):
            x = torch.randn(args.batch_size, 3, 16, 16) * (1.0 + 0.05 * batch)
            activations.clear()
            activations["input"] = x
            model(x)
            for name, tensor in activations.items():
                send(name, as_sent(name, tensor, batch))

    manifest.close()
    remaining = producer.flush(60)
    if remaining or errors:
        print(f"producer: {remaining} undelivered, {len(errors)} failed: {errors[:3]}", file=sys.stderr)
        return 1
    tensors = len({json.loads(line)["tensor"] for line in open(os.path.join(args.out, "manifest.jsonl"))})
    print(f"producer: sent {sent} batches of {tensors} tensors to {args.topic} "
          f"(manifest {os.path.join(args.out, 'manifest.jsonl')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
