#!/usr/bin/python3
"""The user side of e2e/run-secure.sh: confluent_kafka clients on the broker's mutual-TLS listener.

Each client authenticates with its own certificate (bin/kafka-broker client-cert NAME: principal User:NAME) and
may do what its ACLs allow. (Debian's librdkafka 2.0.2 cannot do SCRAM against Kafka 4.x: it repeats the nonce in
its final message, which Kafka 4 refuses; 2.6.1 fixed it. The job's Java clients use SCRAM.)

  produce TENSOR:MIN:MAX...  one JSON stats batch per argument, keyed by tensor, in order; exit 0 when every one
                             was written, 3 when the broker refused them for lack of an ACL (the reason on stdout)
  expect TENSOR:N:MIN:MAX... waits (--timeout) for each tensor's record with batches == N, and checks that its
                             min_val and max_val are MIN and MAX as float32, and its scale and zero_point torch's
                             own for that range (python3-torch); "ok"/"FAIL" lines per tensor
"""
import argparse
import json
import os
import struct
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition


def f32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def client_config(args):
    with open(args.password_file) as f:
        password = f.read().strip()
    return {
        "bootstrap.servers": args.bootstrap_servers,
        "security.protocol": "SSL",
        "ssl.ca.location": args.ca,
        "ssl.keystore.location": args.keystore,
        "ssl.keystore.password": password,
    }


def produce(args):
    producer = Producer({**client_config(args), "acks": "all", "enable.idempotence": True})
    errors = []
    for spec in args.specs:
        tensor, lo, hi = spec.split(":")
        value = json.dumps({"min": float(lo), "max": float(hi)}).encode()
        producer.produce(args.topic, key=tensor.encode(), value=value,
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
    left = producer.flush(args.timeout)
    if errors:
        codes = {e.code() for e in errors}
        print(f"refused: {errors[0].str()}")
        return 3 if codes <= {KafkaError.TOPIC_AUTHORIZATION_FAILED} else 1
    if left:
        print(f"{left} batches not delivered within {args.timeout} s")
        return 1
    print(f"sent {len(args.specs)} batches to {args.topic}")
    return 0


def expect(args):
    wanted = {}
    for spec in args.specs:
        tensor, n, lo, hi = spec.split(":")
        wanted[tensor] = (int(n), f32(lo), f32(hi))
    # librdkafka wants a group id, but an assigned consumer that commits nothing never uses the group.
    consumer = Consumer({**client_config(args), "group.id": "qparams-e2e-unused", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    metadata = consumer.list_topics(args.topic, timeout=args.timeout)
    partitions = [TopicPartition(args.topic, p, 0) for p in metadata.topics[args.topic].partitions]
    consumer.assign(partitions)  # no consumer group: Read on the topic is all it needs
    found = {}
    deadline = time.monotonic() + args.timeout
    while len(found) < len(wanted) and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().fatal():
                print(f"FAIL read {args.topic}: {msg.error().str()}")
                return 1
            print(f"note: {msg.error().str()}", file=sys.stderr)
            continue
        record = json.loads(msg.value())
        tensor = record.get("tensor")
        if tensor in wanted and record.get("batches") == wanted[tensor][0]:
            found[tensor] = record
    consumer.close()
    failed = 0
    for tensor, (n, lo, hi) in wanted.items():
        record = found.get(tensor)
        ok = record is not None and f32(record["min_val"]) == lo and f32(record["max_val"]) == hi
        got = "nothing" if record is None else f"min_val {record['min_val']}, max_val {record['max_val']}"
        print(f"{'ok  ' if ok else 'FAIL'} {tensor} after {n} batches: min_val {lo}, max_val {hi} (got {got})")
        failed += not ok
        if ok:
            same, why = same_as_torch(record)
            print(f"{'ok  ' if same else 'FAIL'} {tensor}: scale and zero_point are torch's for that range{why}")
            failed += not same
    return 1 if failed else 0


def same_as_torch(record):
    """The record's scale and zero_point against torch's own observer (the one the record names) holding
    the record's range: bit for bit, as the main e2e test checks every record."""
    import torch  # Debian's python3-torch; only this check needs it
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    from qparams.observers import observer_from_record
    obs = observer_from_record(record)
    obs.min_val = torch.tensor(f32(record["min_val"]), dtype=torch.float32)
    obs.max_val = torch.tensor(f32(record["max_val"]), dtype=torch.float32)
    scale, zero_point = obs.calculate_qparams()
    same = f32(record["scale"]) == f32(scale.item()) and record["zero_point"] == int(zero_point.item())
    return same, "" if same else f" (got {record['scale']}, {record['zero_point']}; torch {scale.item()}, " \
        f"{int(zero_point.item())})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["produce", "expect"])
    parser.add_argument("specs", nargs="+")
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--ca", required=True, help="the CA's certificate (PEM)")
    parser.add_argument("--keystore", required=True, help="the client's PKCS#12 key store")
    parser.add_argument("--password-file", required=True, help="the key store's password")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    sys.exit(produce(args) if args.command == "produce" else expect(args))


if __name__ == "__main__":
    main()
