#!/usr/bin/python3
"""Kafka side of the fault tests (e2e/run-faults.sh): a deterministic, streamed producer of small
float32 NPY activation batches, read_committed readers of the qparams output topics, and the final
checks that compare the runs with failures against the reference run record by record.

    faults.py create-topic --bootstrap-servers B --topic T --partitions 4
    faults.py produce      --bootstrap-servers B --topic T --first-round 0 --rounds 300 --rate 3 --progress F
                           [--stop-file F]
    faults.py progress     --bootstrap-servers B --topic T          -> "<records> <min last batches> <tensors>"
    faults.py end-offsets  --bootstrap-servers B --topic T          -> {"0": 123, ...} (high watermarks)
    faults.py check        --bootstrap-servers B --ref A --eo B --alo C ...  -> "ok ..."/"FAIL ..." lines

A round is one batch of every tensor (30 records). The batch of tensor t in round r depends only on
(seed, t, r), so the same rounds give the same bytes whenever and however often they are produced.
"""
import argparse
import json
import os
import sys
import time
import uuid

import numpy as np
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from qparams.wire import npy_bytes  # noqa: E402 (python/ is on the path only now)

LAYERS = [f"enc{i}" for i in range(5)] + [f"dec{i}" for i in range(5)]
TENSORS = [f"{layer}.{kind}.output" for layer in LAYERS for kind in ("conv", "relu", "fc")]


def batch(seed: int, t: int, name: str, rnd: int) -> np.ndarray:
    """Tensor t's batch of round rnd: float32, a slowly growing spread and a rare outlier, so that
    running extremes keep moving late in the stream and every record depends on all earlier ones."""
    rng = np.random.default_rng([seed, t, rnd])
    spread = 1.0 + 0.002 * rnd + 0.1 * (t % 7)
    if name.endswith(".conv.output"):
        channel_scale = (1.0 + 0.5 * np.arange(4)).reshape(1, 4, 1, 1)
        x = rng.standard_normal((2, 4, 3, 3)) * spread * channel_scale + 0.1 * (t % 3)
    elif name.endswith(".relu.output"):
        x = np.maximum(rng.standard_normal((2, 16)) * spread + 0.2, 0.0)
    else:
        x = rng.standard_normal((2, 16)) * spread
    if rng.random() < 0.02:
        x.flat[rng.integers(x.size)] *= 4.0
    return x.astype(np.float32)


def write_atomically(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def create_topic(args) -> int:
    admin = AdminClient({"bootstrap.servers": args.bootstrap_servers})
    futures = admin.create_topics([NewTopic(args.topic, num_partitions=args.partitions, replication_factor=1)])
    for topic, future in futures.items():
        try:
            future.result(30)
        except Exception as e:  # an existing topic is fine
            if "TOPIC_ALREADY_EXISTS" not in str(e) and "already exists" not in str(e):
                print(f"faults: cannot create {topic}: {e}", file=sys.stderr)
                return 1
    return 0


def produce(args) -> int:
    """Streams rounds first_round, first_round+1, ... at `rate` rounds a second: `rounds` of them, or with
    --stop-file at least `rounds` and then on until that file exists (at most --max-rounds), so that the
    stream outlasts faults whose recovery takes as long as the machine's load makes it. The progress
    file holds "<rounds handed to the client> <records acknowledged by the broker>" (absolute rounds)."""
    producer = Producer({"bootstrap.servers": args.bootstrap_servers, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5, "message.timeout.ms": 300000,
                         # librdkafka's own "Connect ... failed" lines while the broker restarts are expected
                         # (and look like check failures); a record it cannot deliver still fails the producer.
                         "log_level": 2})
    errors = []
    acked = [0]

    def delivered(err, _msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked[0] += 1

    started = time.monotonic()
    i = 0
    while i < args.rounds or (args.stop_file and not os.path.exists(args.stop_file) and i < args.max_rounds):
        rnd = args.first_round + i
        for t, name in enumerate(TENSORS):
            producer.produce(args.topic, key=name.encode(), value=npy_bytes(batch(args.seed, t, name, rnd)),
                             headers={"content-type": b"application/x-npy"}, on_delivery=delivered)
        producer.poll(0)
        i += 1
        if args.progress:
            write_atomically(args.progress, f"{rnd + 1} {acked[0]}\n")
        if args.rate > 0:
            # poll() returns as soon as it served a delivery report: poll until the round's time is up.
            while (delay := started + i / args.rate - time.monotonic()) > 0:
                producer.poll(delay)
    remaining = producer.flush(300)
    if args.progress:
        write_atomically(args.progress, f"{args.first_round + i} {acked[0]}\n")
    if remaining or errors:
        print(f"faults: producer: {remaining} undelivered, {len(errors)} failed: {errors[:3]}", file=sys.stderr)
        return 1
    print(f"faults: produced rounds {args.first_round}..{args.first_round + i - 1} "
          f"({acked[0]} batches of {len(TENSORS)} tensors) in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


def read_committed(bootstrap: str, topic: str, timeout: float = 60.0):
    """Every committed record of the topic as (partition, offset, key bytes, value bytes), in partition
    then offset order, up to the end each partition has when it is reached (the last stable offset)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"faults-reader-{uuid.uuid4()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        info = metadata.topics.get(topic)
        if info is None or info.error is not None or not info.partitions:
            return []
        partitions = sorted(info.partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records, at_end = [], set()
        deadline = time.monotonic() + timeout
        while len(at_end) < len(partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: partitions {sorted(set(partitions) - at_end)} not read to the end "
                                   f"within {timeout} s")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    continue
                raise RuntimeError(f"{topic}: {msg.error()}")
            records.append((msg.partition(), msg.offset(), msg.key(), msg.value()))
        records.sort(key=lambda r: (r[0], r[1]))
        return records
    finally:
        consumer.close()


def parsed(records):
    """(partition, offset, key, value, record dict) for every record; a value that is not JSON gives None."""
    out = []
    for p, o, k, v in records:
        try:
            rec = json.loads(v)
        except (TypeError, ValueError):
            rec = None
        out.append((p, o, k, v, rec))
    return out


def progress(args) -> int:
    records = parsed(read_committed(args.bootstrap_servers, args.topic))
    last = {}
    for _p, _o, _k, _v, rec in records:
        if rec is not None and "tensor" in rec:
            last[rec["tensor"]] = max(last.get(rec["tensor"], 0), rec.get("batches", 0))
    low = min(last.values()) if len(last) == len(TENSORS) else 0
    print(f"{len(records)} {low} {len(last)}")
    return 0


def end_offsets(args) -> int:
    consumer = Consumer({"bootstrap.servers": args.bootstrap_servers, "group.id": f"faults-reader-{uuid.uuid4()}"})
    try:
        info = consumer.list_topics(args.topic, timeout=10).topics[args.topic]
        ends = {str(p): consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=10, cached=False)[1]
                for p in sorted(info.partitions)}
    finally:
        consumer.close()
    print(json.dumps(ends))
    return 0


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, ok: bool, name: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok


def per_tensor(records):
    """tensor -> its records in log order; and the tensors found in more than one partition."""
    by_tensor, partitions = {}, {}
    for p, o, k, v, rec in records:
        name = rec.get("tensor") if rec else None
        by_tensor.setdefault(name, []).append((p, o, k, v, rec))
        partitions.setdefault(name, set()).add(p)
    split = sorted(str(t) for t, ps in partitions.items() if len(ps) > 1)
    return by_tensor, split


def sequence_check(check: Checks, label: str, records, rounds: int) -> None:
    """Each tensor's `batches` in log order is exactly 1..rounds: no gap, no repeat."""
    by_tensor, split = per_tensor(records)
    check(len(records) == rounds * len(TENSORS), f"{label}: {rounds * len(TENSORS)} committed records",
          f"{len(records)} records")
    check(sorted(by_tensor, key=str) == sorted(TENSORS) and not split,
          f"{label}: the {len(TENSORS)} tensors, each in one output partition",
          f"tensors {sorted(map(str, by_tensor))[:5]}..., split over partitions: {split}")
    bad = []
    for name in TENSORS:
        seq = [rec.get("batches") for _p, _o, _k, _v, rec in by_tensor.get(name, [])]
        if seq != list(range(1, rounds + 1)):
            first = next((i for i, b in enumerate(seq) if b != i + 1), len(seq))
            bad.append(f"{name}: {len(seq)} records, first deviation at position {first}: "
                       f"{seq[max(0, first - 2):first + 3]}")
    check(not bad, f"{label}: every tensor's batches run exactly 1..{rounds} in log order (no gap, no repeat)",
          "; ".join(bad[:3]))
    not_ok = [rec for *_x, rec in records if not rec or rec.get("status") != "ok"]
    check(not not_ok, f"{label}: every record has status ok", f"{len(not_ok)} not ok, e.g. {not_ok[:1]}")


def check(args) -> int:
    check = Checks()
    bootstrap = args.bootstrap_servers
    ref = parsed(read_committed(bootstrap, args.ref))
    eo = parsed(read_committed(bootstrap, args.eo))
    alo = parsed(read_committed(bootstrap, args.alo))

    # ---- A: the reference, one failure-free run over the whole input log ----
    sequence_check(check, f"A ({args.ref}, exactly-once, no failure)", ref, args.rounds)
    reference = {}
    for _p, _o, k, v, rec in ref:
        if rec:
            reference[(rec["tensor"], rec["batches"])] = (k, v)
    sources = {(rec["source"]["partition"], rec["source"]["offset"]) for *_x, rec in ref if rec}
    check(len(sources) == len(ref) and all(rec and rec["source"]["topic"] == args.input for *_x, rec in ref),
          f"A: every record names a distinct source record of {args.input}")

    def differences(records):
        """Records whose key and value bytes differ from A's record for the same (tensor, batches)."""
        diff = []
        for p, o, k, v, rec in records:
            want = reference.get((rec["tensor"], rec["batches"])) if rec else None
            if want != (k, v):
                diff.append(f"p{p}@{o}: {v[:160]!r} vs A's {want[1][:160] if want else None!r}")
        return diff

    # ---- B: exactly-once under TaskManager kills, a broker restart and a savepoint + new jar ----
    label = f"B ({args.eo}, exactly-once, 3 TaskManager kills + broker restart + stop/resume)"
    sequence_check(check, label, eo, args.rounds)
    diff = differences(eo)
    check(not diff, f"B: every one of {len(eo)} records byte-identical (key and value) to A's for the same "
          f"(tensor, batches)", f"{len(diff)} differ, e.g. {diff[:2]}")
    last_eo, _ = per_tensor(eo)
    last_diff = [t for t in TENSORS if not last_eo.get(t)
                 or (last_eo[t][-1][2], last_eo[t][-1][3]) != reference.get((t, args.rounds))]
    check(not last_diff, f"B: the last record of each of the {len(TENSORS)} tensors (batches {args.rounds}) "
          "bit-identical to A's", f"{last_diff[:3]}")

    # Stop-with-savepoint: records at or after the output's end offsets at the stop come from the resumed job.
    if args.stop_offsets:
        stop = {int(p): o for p, o in json.load(open(args.stop_offsets)).items()}
        before, after = {}, {}
        for p, o, _k, _v, rec in eo:
            if rec:
                (after if o >= stop.get(p, 0) else before).setdefault(rec["tensor"], []).append(rec["batches"])
        bad, mid = [], 0
        for t in TENSORS:
            n = max(before.get(t, [0]))
            if not after.get(t) or after[t][0] != n + 1:
                bad.append(f"{t}: last before the stop {n}, first after {after.get(t, [None])[0]}")
            if 0 < n < args.rounds:
                mid += 1
        stops = sorted(max(before.get(t, [0])) for t in TENSORS)
        check(not bad and mid == len(TENSORS),
              f"B: after stop-with-savepoint and resume on the new jar, every tensor continues at N+1 "
              f"(N = {stops[0]}..{stops[-1]} at the stop, mid-stream for {mid}/{len(TENSORS)} tensors; "
              f"{sum(len(a) for a in after.values())} records from the resumed job, all equal to A's)",
              "; ".join(bad[:3]) or f"only {mid} tensors were mid-stream")

    # ---- C: at-least-once under a TaskManager kill (and the same broker restart) ----
    by_source = {}
    for p, o, k, v, rec in alo:
        if rec:
            by_source.setdefault((rec["source"]["partition"], rec["source"]["offset"]), []).append((k, v))
    duplicates = sum(len(vs) - 1 for vs in by_source.values())
    dup_diff = [s for s, vs in by_source.items() if any(x != vs[0] for x in vs)]
    check(not dup_diff, f"C ({args.alo}, at-least-once): every duplicate ({duplicates} of {len(alo)} records) "
          "byte-identical to the first record with the same source offset", f"{len(dup_diff)} differ: {dup_diff[:3]}")
    by_alo, split = per_tensor(alo)
    missing = [t for t in TENSORS if {rec["batches"] for *_x, rec in by_alo.get(t, [])} != set(range(1, args.alo_rounds + 1))]
    check(not missing and not split, f"C: every tensor has every batches value 1..{args.alo_rounds} (nothing lost)",
          f"{missing[:3]} {split[:3]}")
    last_diff = [t for t in TENSORS if not by_alo.get(t)
                 or (by_alo[t][-1][2], by_alo[t][-1][3]) != reference.get((t, args.alo_rounds))]
    check(not last_diff, f"C: the last record of each tensor (batches {args.alo_rounds}) bit-identical to A's",
          f"{last_diff[:3]}")
    diff = differences(alo)
    check(not diff, f"C: every record, duplicates included, byte-identical to A's for the same (tensor, batches)",
          f"{len(diff)} differ, e.g. {diff[:2]}")

    if args.dlq:
        dead = read_committed(bootstrap, args.dlq)
        check(not dead, f"no dead letters in {args.dlq}", f"{len(dead)} dead letters")
    print(f"checks: {check.passed} passed, {check.failed} failed")
    return 0 if check.failed == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("create-topic", "produce", "progress", "end-offsets", "check"):
        p = sub.add_parser(name)
        p.add_argument("--bootstrap-servers", required=True)
        if name != "check":
            p.add_argument("--topic", required=True)
    sub.choices["create-topic"].add_argument("--partitions", type=int, default=4)
    p = sub.choices["produce"]
    p.add_argument("--first-round", type=int, default=0)
    p.add_argument("--rounds", type=int, default=300, help="rounds to stream (at least, with --stop-file)")
    p.add_argument("--stop-file", help="after --rounds, go on streaming until this file exists")
    p.add_argument("--max-rounds", type=int, default=1500, help="with --stop-file: stop here anyway")
    p.add_argument("--rate", type=float, default=0, help="rounds a second (0: as fast as possible)")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--progress", help="file to keep '<rounds sent> <records acknowledged>' in")
    p = sub.choices["check"]
    p.add_argument("--input", required=True, help="the input topic every source field must name")
    p.add_argument("--ref", required=True, help="output topic of the reference run A")
    p.add_argument("--eo", required=True, help="output topic of the exactly-once run B")
    p.add_argument("--alo", required=True, help="output topic of the at-least-once run C")
    p.add_argument("--rounds", type=int, required=True, help="batches per tensor in A and B")
    p.add_argument("--alo-rounds", type=int, required=True, help="batches per tensor in C")
    p.add_argument("--stop-offsets", help="B's output end offsets when it was stopped with a savepoint (JSON)")
    p.add_argument("--dlq")
    args = parser.parse_args()
    return {"create-topic": create_topic, "produce": produce, "progress": progress,
            "end-offsets": end_offsets, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
