#!/usr/bin/python3
"""Fills a new input topic with one workload's records; prints what it wrote as one JSON line.

  fill.py --bootstrap HOST:PORT --topic T --kind npy|stats [--shape 256,1024] --records N [--tensors 50]

4 partitions, the tensors round-robin (see common.py), `content-type` header on every record.
The filler's own speed is not measured.
"""
import argparse
import json
import time

from confluent_kafka import Producer

import common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--kind", choices=["npy", "stats"], required=True)
    ap.add_argument("--shape", default="")
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--tensors", type=int, default=common.TENSORS)
    a = ap.parse_args()

    shape = tuple(int(s) for s in a.shape.split(",")) if a.shape else ()
    values, content_type = common.payloads(a.kind, shape)
    keys = [common.tensor_name(t, a.tensors).encode() for t in range(a.tensors)]
    headers = [("content-type", content_type)]

    common.create_topic(a.bootstrap, a.topic)
    p = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 20, "message.max.bytes": 16777216,
                  "queue.buffering.max.kbytes": 1048576, "queue.buffering.max.messages": 1000000})
    failures = []

    def delivered(err, _msg):
        if err is not None:
            failures.append(str(err))

    started = time.monotonic()
    total_bytes = 0
    for i in range(a.records):
        t = i % a.tensors
        value = values[(i // a.tensors + t) % common.POOL]
        while True:
            try:
                p.produce(a.topic, key=keys[t], value=value, partition=common.partition_of(t), headers=headers,
                          on_delivery=delivered)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
        total_bytes += len(keys[t]) + len(value)
        if failures:
            raise SystemExit(f"fill.py: producing to {a.topic} failed: {failures[0]}")
    left = p.flush(120)
    if left or failures:
        raise SystemExit(f"fill.py: {left} records undelivered after 120 s; {failures[:1]}")
    print(json.dumps({"topic": a.topic, "records": a.records, "tensors": a.tensors, "bytes": total_bytes,
                      "bytes_per_record": total_bytes / a.records, "value_bytes": len(values[0]),
                      "fill_seconds": round(time.monotonic() - started, 1)}))


if __name__ == "__main__":
    main()
