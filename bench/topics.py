#!/usr/bin/python3
"""Topic helpers for bench/run; each prints its result on stdout, progress and errors on stderr.

  topics.py create --bootstrap B --topic T [--partitions 4] [--log-append-time]
  topics.py delete --bootstrap B --topic PREFIX
      deletes every topic whose name starts with PREFIX
  topics.py count  --bootstrap B --topic T
      sum of the end offsets (0 for a missing topic)
  topics.py wait   --bootstrap B --topic T --count N [--pid PID] [--stall-seconds 120] [--deadline-seconds 1800]
      polls the end offsets until they sum to >= N, then prints {"records", "cpu_us_per_record",
      "cpu_us_per_record_by_thread"}: the CPU time of process PID (the job) per record written after
      the first ones showed, in all and by kind of thread (see thread_kind);
      exit 1 (one line on stderr) when the deadline passes, when nothing arrived for
      --stall-seconds, or when process PID exits
  topics.py rate   --bootstrap B --topic T --count N [--observer NAME]
      reads the output topic and prints {"records", "seconds", "rec_s", ...} from its LogAppendTime
      timestamps: the records appended after the first append, over the time from the first append
      to the last, so the job's start-up is excluded, and "steady_rec_s" (steady_rate: the median
      records/s over whole seconds between 30 % and 95 % of the records); with --observer, fails
      unless the first record of every partition names that observer (the job applied the config)
"""
import argparse
import json
import os
import statistics
import sys
import time

from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME

import common


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by bin/run's shell) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpu_seconds(pid):
    """User + system CPU time of every thread of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def minor_faults(pid):
    """Minor page faults of the process so far: each is a first touch of a page the kernel then
    zeroes. A JVM whose heap keeps growing faults on every fresh page it allocates into, and on
    this machine (a paravirtualized VM) a fault costs ~16 µs of system time (BENCHMARKS.md)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


# Kinds of the job's threads, by the 15-character name Linux keeps (/proc/PID/task/TID/comm): the
# job's own tasks (QParamsJob's operator and source names), the Kafka clients' threads, the JIT
# compilers, the garbage collector, and the rest (Flink's runtime: RPC, output flushers, timers).
THREAD_KINDS = [
    ("jit", ("C1 CompilerThre", "C2 CompilerThre")),
    ("gc", ("GC Thread", "G1 ", "VM Thread")),
    ("kafka-clients", ("kafka-", "Source Data Fet")),
    ("tasks", ("Source: input", "Source: control", "observe", "dead-letter-sin")),
]


def thread_kind(comm):
    for kind, prefixes in THREAD_KINDS:
        if comm.startswith(prefixes):
            return kind
    return "other"


def cpu_by_thread_kind(pid):
    """CPU seconds so far of the live threads of the process, summed by thread_kind; {} if it is gone."""
    ticks = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return {}
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().rstrip("\n")
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended between the listing and the read
        kind = thread_kind(comm)
        ticks[kind] = ticks.get(kind, 0) + int(fields[11]) + int(fields[12])
    return {k: v / os.sysconf("SC_CLK_TCK") for k, v in ticks.items()}


def wait(a):
    c = common.metadata_consumer(a.bootstrap)
    started = progress_at = moved_at = time.monotonic()
    seen = -1
    first = None  # (records, CPU seconds of the job) when the first output records showed
    try:
        while True:
            n = sum(common.end_offsets(c, a.topic).values())
            now = time.monotonic()
            cpu = cpu_seconds(a.pid) if a.pid and alive(a.pid) else None
            if first is None and n > 0:
                first = (n, cpu, cpu_by_thread_kind(a.pid) if cpu is not None else {},
                         minor_faults(a.pid) if cpu is not None else None)
            if n >= a.count:
                result = {"records": n}
                if first and cpu is not None and first[1] is not None and n > first[0]:
                    # The job's CPU per output record from the first output on (start-up excluded), at
                    # the resolution of this 0.5 s poll.
                    result["cpu_us_per_record"] = (cpu - first[1]) * 1e6 / (n - first[0])
                    # By kind of thread, from the live threads (a thread that ended in between,
                    # such as a finished JIT compiler, drops out of this split but not of the total).
                    kinds = cpu_by_thread_kind(a.pid)
                    result["cpu_us_per_record_by_thread"] = {
                        k: round((kinds[k] - first[2].get(k, 0.0)) * 1e6 / (n - first[0]), 2)
                        for k in sorted(kinds)}
                    result["minor_faults_per_record"] = round((minor_faults(a.pid) - first[3]) / (n - first[0]), 2)
                print(json.dumps(result))
                return 0
            if n != seen:
                seen, moved_at = n, now
            if a.pid and not alive(a.pid):
                common.log(f"topics.py wait: the job (pid {a.pid}) exited with {n}/{a.count} records in {a.topic}")
                return 1
            if now - moved_at > a.stall_seconds:
                common.log(f"topics.py wait: {a.topic} stuck at {n}/{a.count} records for {a.stall_seconds:.0f} s")
                return 1
            if now - started > a.deadline_seconds:
                common.log(f"topics.py wait: {a.topic} has {n}/{a.count} records after {a.deadline_seconds:.0f} s")
                return 1
            if now - progress_at >= 15:
                common.log(f"    ... {a.topic}: {n}/{a.count} records after {now - started:.0f} s")
                progress_at = now
            time.sleep(0.5)
    finally:
        c.close()


# The steady rate: a run's records/s once the JIT compilers have done most of their work (20-40 s
# after the job starts on 2 cores, a good part of a short run's span): the median of the per-second
# counts of appends over whole seconds between the appends of the 30th and the 95th percent of the
# records (past the warm-up, before the last partitions run dry).
STEADY_FROM, STEADY_TO = 0.30, 0.95


def steady_rate(stamps):
    """(median records per second, number of whole seconds) for append times in ms; (None, 0) if the
    steady span holds no whole second."""
    stamps = sorted(stamps)
    start, end = stamps[int(len(stamps) * STEADY_FROM)], stamps[int((len(stamps) - 1) * STEADY_TO)]
    seconds = (end - start) // 1000
    if seconds < 1:
        return None, 0
    counts = [0] * seconds
    for t in stamps:
        if start <= t < start + seconds * 1000:
            counts[(t - start) // 1000] += 1
    return statistics.median(counts), seconds


def rate(a):
    stamps = []
    wrong_type = []
    observers = {}

    def on_message(m):
        ts_type, ts = m.timestamp()
        if ts_type != TIMESTAMP_LOG_APPEND_TIME:
            wrong_type.append(ts_type)
        stamps.append(ts)
        if m.partition() not in observers:
            observers[m.partition()] = json.loads(m.value()).get("observer")

    common.read_all(a.bootstrap, a.topic, on_message, expected=a.count)
    if wrong_type:
        sys.exit(f"topics.py rate: {a.topic} has no LogAppendTime timestamps (create it with --log-append-time)")
    if a.observer and set(observers.values()) != {a.observer}:
        sys.exit(f"topics.py rate: {a.topic} holds records of {sorted(set(map(str, observers.values())))}, "
                 f"not {a.observer}")
    first, last = min(stamps), max(stamps)
    after_first = sum(1 for t in stamps if t > first)
    seconds = (last - first) / 1000.0
    if seconds <= 0:
        sys.exit(f"topics.py rate: all {len(stamps)} records of {a.topic} were appended in the same millisecond")
    steady, steady_seconds = steady_rate(stamps)
    print(json.dumps({"records": len(stamps), "seconds": seconds, "rec_s": after_first / seconds,
                      "first_append_ms": first, "last_append_ms": last,
                      "steady_rec_s": steady, "steady_seconds": steady_seconds}))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["create", "delete", "count", "wait", "rate"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--partitions", type=int, default=common.PARTITIONS)
    ap.add_argument("--log-append-time", action="store_true")
    ap.add_argument("--count", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--stall-seconds", type=float, default=120)
    ap.add_argument("--deadline-seconds", type=float, default=1800)
    ap.add_argument("--observer")
    a = ap.parse_args()
    if a.command == "create":
        config = {"message.timestamp.type": "LogAppendTime"} if a.log_append_time else {}
        common.create_topic(a.bootstrap, a.topic, a.partitions, config)
        return 0
    if a.command == "delete":
        common.delete_topics(a.bootstrap, a.topic)
        return 0
    if a.command == "count":
        c = common.metadata_consumer(a.bootstrap)
        print(sum(common.end_offsets(c, a.topic).values()))
        c.close()
        return 0
    if a.count is None:
        sys.exit(f"topics.py {a.command}: --count is required")
    return wait(a) if a.command == "wait" else rate(a)


if __name__ == "__main__":
    sys.exit(main())
