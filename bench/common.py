"""Shared by the bench/*.py clients: the workloads' records, and small Kafka helpers.

Each workload is 50 tensors (fill.py --tensors changes it) round-robin over 4 partitions: record i
belongs to tensor i % 50, keyed by the tensor's name, and tensor t always goes to partition t % 4
(so every partition holds 12 or 13 tensors: balanced, unlike a key hash).
"""
import io
import json
import sys
import time

import numpy as np
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TENSORS = 50
PARTITIONS = 4
POOL = 16  # distinct payloads per workload, cycled (generating GiBs of random numbers is slow)

NPY = b"application/x-npy"
JSON = b"application/json"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def tensor_name(t, tensors=TENSORS):
    """layer00.output ... layer49.output: one width per workload, so every key has the same length."""
    return f"layer{t:0{max(2, len(str(tensors - 1)))}d}.output"


def partition_of(t):
    return t % PARTITIONS


def payloads(kind, shape, seed=1):
    """POOL record values for the workload: (bytes, content-type)."""
    rng = np.random.default_rng(seed)
    values = []
    for k in range(POOL):
        if kind == "npy":
            x = rng.standard_normal(shape, dtype=np.float32) * np.float32(1 + k % 5) + np.float32(k % 3 - 1)
            buf = io.BytesIO()
            np.save(buf, x)
            values.append(buf.getvalue())
        elif kind == "stats":
            lo, hi = -1.0 - rng.random(), 1.0 + rng.random()
            # float32-representable numbers, as a producer that reduced float32 batches would send
            values.append(json.dumps({"min": float(np.float32(lo)), "max": float(np.float32(hi))}).encode())
        else:
            raise ValueError(kind)
    return values, (NPY if kind == "npy" else JSON)


def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap, "log_level": 4})  # librdkafka: warnings and worse


def delete_topics(bootstrap, prefix):
    """Deletes every topic whose name starts with prefix; returns their names."""
    client = admin(bootstrap)
    names = [t for t in client.list_topics(timeout=30).topics if t.startswith(prefix)]
    if names:
        for future in client.delete_topics(names, operation_timeout=60, request_timeout=60).values():
            future.result(timeout=90)
    return names


def create_topic(bootstrap, topic, partitions=PARTITIONS, config=None):
    """Creates the topic (an existing one is an error: every bench topic is new)."""
    client = admin(bootstrap)  # kept referenced until the result is in: its destructor fails the futures
    futures = client.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=30, request_timeout=30)
    futures[topic].result(timeout=60)


def metadata_consumer(bootstrap):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-metadata",
                     "enable.auto.commit": False, "log_level": 4})


def end_offsets(consumer, topic):
    """{partition: high watermark}; {} when the topic does not exist (yet)."""
    md = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if md is None or md.error is not None:
        return {}
    return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
            for p in md.partitions}


def read_all(bootstrap, topic, on_message, expected=None, idle_timeout=30):
    """Reads every record of the topic up to its current end offsets, calling on_message(msg)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-reader", "enable.auto.commit": False,
                  "enable.partition.eof": False, "fetch.max.bytes": 52428800})
    try:
        ends = end_offsets(c, topic)
        remaining = {p: e for p, e in ends.items() if e > 0}
        c.assign([TopicPartition(topic, p, 0) for p in remaining])
        total = sum(remaining.values())
        if expected is not None and total < expected:
            raise RuntimeError(f"{topic} holds {total} records, expected {expected}")
        seen, last = 0, time.monotonic()
        while remaining:
            msgs = c.consume(num_messages=10000, timeout=1.0)
            if not msgs:
                if time.monotonic() - last > idle_timeout:
                    raise RuntimeError(f"reading {topic}: nothing for {idle_timeout} s ({seen}/{total} read)")
                continue
            last = time.monotonic()
            for m in msgs:
                if m.error():
                    raise RuntimeError(f"reading {topic}: {m.error()}")
                p = m.partition()
                if p not in remaining or m.offset() >= remaining[p]:
                    continue
                on_message(m)
                seen += 1
                if m.offset() == remaining[p] - 1:
                    del remaining[p]
        return seen
    finally:
        c.close()
