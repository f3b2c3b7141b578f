"""The latest qparams record of every tensor: from record dicts, a JSON-lines file (what
`bin/qparams calibrate` prints, or a dump of the output topic) or the output topic itself.

No torch here: qparams.torch.load builds on these.
"""
import json
import os
import time
import uuid
from collections import OrderedDict


def from_file(path) -> list:
    """The records of a JSON-lines file, in file order (blank lines skipped)."""
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as e:
                    raise ValueError(f"{path}:{number}: not a JSON record ({e})") from None
    return records


def latest(records) -> "OrderedDict[str, dict]":
    """The last record of each tensor in the order given; a (tensor, None) pair, as a tombstone
    read from the topic, removes the tensor."""
    table = OrderedDict()
    for r in records:
        if isinstance(r, tuple):
            tensor, r = r
        else:
            tensor = r.get("tensor") if isinstance(r, dict) else None
            if not isinstance(tensor, str):
                raise ValueError(f"not a qparams record (no \"tensor\" name): {str(r)[:80]}")
        table.pop(tensor, None)
        if r is not None:
            table[tensor] = r
    return table


def from_topic(bootstrap_servers: str, topic: str = "qparams", timeout: float = 60.0,
               consumer_config: dict = None) -> list:
    """Every record of the topic up to the end offsets seen at the start, as (tensor, record or
    None for a tombstone) pairs in each partition's order: a read_committed consumer (a throwaway
    group, nothing committed) reads each partition from the beginning. Its end offsets are the
    last stable offsets: what the job had committed when the read started; a transaction still
    open then is not waited for. Raises TimeoutError (one line) when the end is not reached
    within timeout s."""
    from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition, OFFSET_BEGINNING
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": f"qparams-load-{uuid.uuid4()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "auto.offset.reset": "earliest", "enable.partition.eof": True,
                         **(consumer_config or {})})
    deadline = time.monotonic() + timeout
    try:
        metadata = consumer.list_topics(topic, timeout=max(1.0, min(timeout, 30.0)))
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise RuntimeError(f"qparams: topic {topic!r} not found at {bootstrap_servers}"
                               + (f" ({found.error})" if found is not None and found.error else ""))
        ends = {}
        for p in sorted(found.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        out = []
        while ends:
            if time.monotonic() > deadline:
                raise TimeoutError(f"qparams: {topic} partitions {sorted(ends)} not read to their end "
                                   f"offsets within {timeout:g} s")
            msg = consumer.poll(0.2)
            if msg is None:
                for tp in consumer.position([TopicPartition(topic, p) for p in ends]):
                    if tp.offset >= ends[tp.partition]:
                        del ends[tp.partition]
                continue
            p = msg.partition()
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(msg.error())
                if p in ends and msg.offset() >= ends[p]:
                    del ends[p]
                continue
            if p not in ends or msg.offset() >= ends[p]:
                continue
            key = msg.key().decode("utf-8") if msg.key() is not None else None
            if key is None:
                raise ValueError(f"qparams: a record without a key at {topic}/{p}@{msg.offset()}")
            out.append((key, None if msg.value() is None else json.loads(msg.value())))
            if msg.offset() + 1 >= ends[p]:
                del ends[p]
        return out
    finally:
        consumer.close()


def source(records=None, bootstrap_servers=None, topic="qparams", timeout=60.0, consumer_config=None):
    """The latest record of every tensor from whichever source is given: an iterable of record
    dicts, a JSON-lines file path, or (records=None) the topic at bootstrap_servers."""
    if records is None:
        if bootstrap_servers is None:
            raise ValueError("qparams: give records (dicts or a JSON-lines file) or bootstrap_servers")
        return latest(from_topic(bootstrap_servers, topic, timeout, consumer_config))
    if isinstance(records, (str, bytes, os.PathLike)):
        return latest(from_file(records))
    if isinstance(records, dict):
        raise ValueError("qparams: records must be an iterable of records, not one record")
    return latest(records)
