#!/usr/bin/python3
"""The Python peer of issue 9: what a user would write instead of qparams, in ~40 lines.

  python_peer.py --bootstrap HOST:PORT --topic T --output-topic T2 --records N [--per-channel]

Reads the input topic from the earliest offset (a fresh consumer group), and for each record:
decodes it (numpy.load of NPY bytes, json.loads of {"min": m, "max": M} stats), feeds it to one
torch observer per tensor (MovingAverageMinMaxObserver, or MovingAveragePerChannelMinMaxObserver
with ch_axis=1), calls calculate_qparams() and produces a JSON record like qparams' to the output
topic. Stats are fed to the observer as the 2-element tensor [m, M]: the observer's min/max of it
is exactly (m, M), which is what qparams' contract says applying stats means.

Prints one JSON line: records/s between the first record processed and the last one delivered
(after the producer's flush), so the consumer group's start-up is excluded, as for qparams; and
the process's CPU time (all threads, librdkafka's and torch's included) per record over that time.
"""
import argparse
import io
import json
import sys
import time
import uuid
import warnings

import numpy as np
import torch
from confluent_kafka import Consumer, Producer
from torch.ao.quantization import MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver

warnings.filterwarnings("ignore", message="The given NumPy array is not writable")  # numpy.load of bytes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--output-topic", required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--per-channel", action="store_true")
    ap.add_argument("--stall-seconds", type=float, default=60)
    a = ap.parse_args()

    consumer = Consumer({"bootstrap.servers": a.bootstrap, "group.id": f"bench-peer-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([a.topic])
    producer = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 5})
    observers, batches = {}, {}
    n, first, last_seen = 0, None, time.monotonic()

    # ---- the peer proper ----
    while n < a.records:
        msgs = consumer.consume(num_messages=min(500, a.records - n), timeout=1.0)
        if not msgs and time.monotonic() - last_seen > a.stall_seconds:
            sys.exit(f"python_peer.py: no record for {a.stall_seconds:.0f} s after {n}/{a.records}")
        for m in msgs:
            if m.error():
                sys.exit(f"python_peer.py: {m.error()}")
            tensor, value = m.key().decode(), m.value()
            if value[:1] == b"\x93":
                x = torch.from_numpy(np.load(io.BytesIO(value)))
            else:
                stats = json.loads(value)
                x = torch.tensor([stats["min"], stats["max"]], dtype=torch.float32)
            obs = observers.get(tensor)
            if obs is None:
                obs = observers[tensor] = (MovingAveragePerChannelMinMaxObserver(ch_axis=1) if a.per_channel
                                           else MovingAverageMinMaxObserver())
            obs(x)
            scale, zero_point = obs.calculate_qparams()
            batches[tensor] = batches.get(tensor, 0) + 1
            record = {"tensor": tensor, "status": "ok", "observer": type(obs).__name__, "dtype": "quint8",
                      "qscheme": "per_channel_affine" if a.per_channel else "per_tensor_affine",
                      "quant_min": obs.quant_min, "quant_max": obs.quant_max,
                      "averaging_constant": obs.averaging_constant, **({"ch_axis": 1} if a.per_channel else {}),
                      "batches": batches[tensor], "min_val": obs.min_val.tolist(), "max_val": obs.max_val.tolist(),
                      "scale": scale.tolist() if a.per_channel else scale.item(),
                      "zero_point": zero_point.tolist() if a.per_channel else zero_point.item(),
                      "source": {"topic": m.topic(), "partition": m.partition(), "offset": m.offset()}}
            producer.produce(a.output_topic, key=m.key(), value=json.dumps(record).encode())
            producer.poll(0)
            n += 1
            if first is None:
                first, first_cpu = time.perf_counter(), time.process_time()
        if msgs:
            last_seen = time.monotonic()
    producer.flush(60)
    # ---- end of the peer ----

    seconds, cpu = time.perf_counter() - first, time.process_time() - first_cpu
    consumer.close()
    print(json.dumps({"records": n, "seconds": round(seconds, 3), "rec_s": (n - 1) / seconds,
                      "cpu_us_per_record": cpu * 1e6 / (n - 1),
                      "torch": torch.__version__, "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
