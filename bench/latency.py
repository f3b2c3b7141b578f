#!/usr/bin/python3
"""End-to-end latency of a running job at a steady input rate.

  latency.py --bootstrap B --input-topic T --output-topic O --rate 1000 --warmup-seconds 5
             --seconds 30 --pid JOB_PID [--shape 1024] [--dump FILE]

The job must already read T (from the earliest offset) and write O, and O must have been created
with message.timestamp.type=LogAppendTime. Produces 4 KiB float32 NPY batches of 50 tensors at a
steady --rate (records/s, paced on the clock, linger.ms=0 so the producer adds no batching delay):
first --warmup-seconds of them, then waits until the job has answered every warm-up record (its
start-up and JIT warm-up are not measured), then --seconds more. The latency of a record is the
LogAppendTime of its output record minus the CreateTime of the input record it came from, matched
through the output record's `source` {partition, offset}. Prints one JSON line with p50, p99, max
(milliseconds) over the steady records, and how close the producer kept to the rate.
"""
import argparse
import json
import sys
import time

from confluent_kafka import Producer, TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME

import common
from topics import alive


def produce_steady(producer, topic, values, keys, headers, rate, count, start_index):
    """Produces count records, record k at t0 + k/rate; returns the achieved rate."""
    t0 = time.perf_counter()
    for k in range(count):
        due = t0 + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        i = start_index + k
        t = i % common.TENSORS
        producer.produce(topic, key=keys[t], value=values[(i // common.TENSORS + t) % common.POOL],
                         partition=common.partition_of(t), headers=headers)
        producer.poll(0)
    producer.flush(30)
    return count / (time.perf_counter() - t0)


def wait_for(bootstrap, topic, count, pid, deadline_seconds):
    c = common.metadata_consumer(bootstrap)
    started = time.monotonic()
    try:
        while True:
            n = sum(common.end_offsets(c, topic).values())
            if n >= count:
                return n
            if pid and not alive(pid):
                sys.exit(f"latency.py: the job (pid {pid}) exited with {n}/{count} records in {topic}")
            if time.monotonic() - started > deadline_seconds:
                sys.exit(f"latency.py: {topic} has {n}/{count} records after {deadline_seconds:.0f} s")
            time.sleep(0.2)
    finally:
        c.close()


def percentile(sorted_values, q):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--input-topic", required=True)
    ap.add_argument("--output-topic", required=True)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--warmup-seconds", type=float, default=5)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--shape", default="1024")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--startup-deadline-seconds", type=float, default=300)
    ap.add_argument("--dump", help="also write 'partition offset create_ms latency_ms' per measured record")
    a = ap.parse_args()

    values, content_type = common.payloads("npy", tuple(int(s) for s in a.shape.split(",")))
    keys = [common.tensor_name(t).encode() for t in range(common.TENSORS)]
    headers = [("content-type", content_type)]
    producer = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 0})
    warmup, steady = int(a.rate * a.warmup_seconds), int(a.rate * a.seconds)

    common.log(f"    warm-up: {warmup} records at {a.rate:.0f}/s, waiting for the job to answer them ...")
    produce_steady(producer, a.input_topic, values, keys, headers, a.rate, warmup, 0)
    wait_for(a.bootstrap, a.output_topic, warmup, a.pid, a.startup_deadline_seconds)

    # Input offsets before the steady phase: records at or past them are the measured ones.
    c = common.metadata_consumer(a.bootstrap)
    steady_from = common.end_offsets(c, a.input_topic)
    c.close()
    common.log(f"    steady: {steady} records at {a.rate:.0f}/s ...")
    achieved = produce_steady(producer, a.input_topic, values, keys, headers, a.rate, steady, warmup)
    wait_for(a.bootstrap, a.output_topic, warmup + steady, a.pid, 120)

    created = {}

    def on_input(m):
        if m.offset() >= steady_from.get(m.partition(), 0):
            ts_type, ts = m.timestamp()
            if ts_type != TIMESTAMP_CREATE_TIME:
                sys.exit(f"latency.py: {a.input_topic} records have no CreateTime")
            created[(m.partition(), m.offset())] = ts

    common.read_all(a.bootstrap, a.input_topic, on_input)
    latencies, duplicates = {}, 0

    def on_output(m):
        nonlocal duplicates
        ts_type, ts = m.timestamp()
        if ts_type != TIMESTAMP_LOG_APPEND_TIME:
            sys.exit(f"latency.py: {a.output_topic} has no LogAppendTime timestamps")
        src = json.loads(m.value())["source"]
        key = (src["partition"], src["offset"])
        if key in created:
            if key in latencies:
                duplicates += 1  # at-least-once after a restart: keep the first emission
            else:
                latencies[key] = ts - created[key]

    common.read_all(a.bootstrap, a.output_topic, on_output)
    if len(latencies) != len(created):
        sys.exit(f"latency.py: {len(created) - len(latencies)} of {len(created)} steady records have no output")
    if a.dump:
        with open(a.dump, "w") as f:
            f.write("partition\toffset\tcreate_ms\tlatency_ms\n")
            for (p, o), ms in sorted(latencies.items(), key=lambda kv: created[kv[0]]):
                f.write(f"{p}\t{o}\t{created[(p, o)]}\t{ms}\n")
    lat = sorted(latencies.values())
    print(json.dumps({"records": len(lat), "rate": a.rate, "achieved_rate": round(achieved, 1),
                      "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": lat[-1],
                      "min_ms": lat[0], "duplicates": duplicates}))


if __name__ == "__main__":
    main()
