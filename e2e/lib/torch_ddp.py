#!/usr/bin/python3
"""Data-parallel calibration through the job (contract section 7): N ranks, real processes in a gloo
process group on CPU, each run its shard of every global batch through the small CNN prepared with
qparams.torch's observer, after a small random delay; their observers publish with the headers
qparams.step/world-size/rank taken from torch.distributed. The reference runs in this process: for
every observer and step, torch's own observer on torch.cat of the shards that were sent. Each of the
job's records must equal the reference state after its step, bit for bit (min_val, max_val, scale,
zero_point), with step, world_size and ranks; then load + convert must give the reference int8 model.

    bin/qparams run --bootstrap-servers B --config CONFIG --input-topic T --output-topic T2 --step-timeout 5s &
    /usr/bin/python3 e2e/lib/torch_ddp.py --bootstrap-servers B --input-topic T --output-topic T2 --mode eager

CONFIG: torch_loop.py --write-config (same model and observers). --stop-rank R --stop-after-step K:
rank R exits after step K; the job applies later steps after --step-timeout with the ranks that
came (--incomplete-steps apply; with dlq they are not applied: pass the job's choice here too).
--inputs-only checks the producers without a job: every input record's headers and stats against
the reference shards. Prints failures and 'torch-ddp: N passed, M failed'; exit status 1 on failure.
"""
import argparse
import io
import json
import os
import random
import socket
import sys
import time
import uuid

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import torch_common as tc
from torch_common import qt
from qparams.wire import record_float32s, same_float32s


def shard(args, step: int, rank: int) -> torch.Tensor:
    return tc.batch(args.seed, step, args.shard_size * args.world_size).chunk(args.world_size)[rank]


def sent_steps(args, rank: int) -> range:
    """The global steps rank runs (all, or up to --stop-after-step for --stop-rank)."""
    last = args.stop_after_step if rank == args.stop_rank else args.steps - 1
    return range(min(last, args.steps - 1) + 1)


def observers(args, prefix: str, torch_side: bool):
    if torch_side:
        return tc.TORCH_ACT, tc.TORCH_MINMAX
    where = dict(bootstrap_servers=args.bootstrap_servers, topic=args.input_topic, send=args.send, prefix=prefix)
    return (qt.observer("MovingAverageMinMaxObserver", averaging_constant=tc.AVERAGING, dtype=torch.quint8, **where),
            qt.observer("MinMaxObserver", dtype=torch.quint8, **where))


def rank_main(rank: int, args, prefix: str, port: int) -> None:
    """One rank: torchrun's environment, a gloo group, its shards with random delays, flush."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(args.world_size))
    dist.init_process_group("gloo")
    # The ranks that run every step: after --stop-after-step they keep in step without the one that left.
    survivors = dist.new_group([r for r in range(args.world_size) if r != args.stop_rank])
    prepared = tc.prepare_model(tc.make_model(args.seed), args.mode, *observers(args, prefix, False))
    qt.name_observers(prepared)
    delays = random.Random(args.seed * 1000 + rank)
    dist.barrier()
    with torch.no_grad():
        for step in sent_steps(args, rank):
            time.sleep(delays.uniform(0, args.max_delay))
            prepared(shard(args, step, rank))
            # Data-parallel training keeps its ranks in step (DDP's all-reduce of the gradients); a
            # barrier does it here. Without one, ranks drift apart without bound on a busy machine,
            # and a step whose last shard comes more than the job's --step-timeout after its first
            # goes without it.
            dist.barrier(group=survivors if 0 <= args.stop_rank and args.stop_after_step < step else None)
    qt.flush(60)


def reference(args):
    """Per observer name, the reference state after each of its calls (the qparams.step), and the
    reference prepared model after all: torch's observers on torch.cat of the shards sent."""
    model = tc.make_model(args.seed)
    capture = tc.prepare_model(model, args.mode, tc.TORCH_ACT, tc.TORCH_MINMAX)
    calls = {}
    for name, obs in qt.observer_names(capture).items():
        obs.register_forward_pre_hook(lambda _m, inputs, name=name: calls[name].append(inputs[0].detach().clone()))
    shards = {}  # (name, call) -> {rank: tensor}
    with torch.no_grad():
        for rank in range(args.world_size):
            for step in sent_steps(args, rank):
                calls.update({name: [] for name in qt.observer_names(capture)})
                capture(shard(args, step, rank))
                for name, inputs in calls.items():
                    for j, x in enumerate(inputs):
                        shards.setdefault((name, step * len(inputs) + j), {})[rank] = x
    ref = tc.prepare_model(model, args.mode, tc.TORCH_ACT, tc.TORCH_MINMAX)
    states = {name: {} for name in qt.observer_names(ref)}
    for (name, call), by_rank in sorted(shards.items(), key=lambda kv: kv[0][1]):
        if len(by_rank) < args.world_size and args.incomplete_steps == "dlq":
            continue
        obs = qt.observer_names(ref)[name]
        obs(torch.cat([by_rank[r] for r in sorted(by_rank)]))
        scale, zero_point = obs.calculate_qparams()
        states[name][call] = dict(min_val=obs.min_val.clone(), max_val=obs.max_val.clone(), scale=scale.clone(),
                                  zero_point=int(zero_point), ranks=len(by_rank), batches=len(states[name]) + 1)
    return states, shards, ref


def check_record(checks, prefix, states, r) -> None:
    name, step = r["tensor"][len(prefix):], r.get("step")
    want = states.get(name, {}).get(step)
    if not checks.check(f"{name} step {step}: a step the reference applied", want is not None):
        return
    for key in ("min_val", "max_val", "scale"):
        checks.check(f"{name} step {step}: {key}", same_float32s(record_float32s(r[key]), want[key].numpy()),
                     f"{r[key]} != {want[key].item()}")
    for key, value in (("zero_point", want["zero_point"]), ("ranks", want["ranks"]), ("batches", want["batches"])):
        checks.check(f"{name} step {step}: {key}", r.get(key) == value, f"{r.get(key)} != {value}")


def check_inputs(checks, args, prefix, shards) -> None:
    """Without the job: the input topic's records of this run against the reference shards."""
    expected = {(prefix + name, call, rank) for (name, call), by_rank in shards.items() for rank in by_rank}
    seen, last = set(), {}

    def accept(key, value, headers):
        h = {k: v.decode() for k, v in headers or []}
        step, rank = int(h["qparams.step"]), int(h["qparams.rank"])
        checks.check(f"{key} step {step} rank {rank}: once", (key, step, rank) not in seen)
        checks.check(f"{key} rank {rank}: steps in order", last.get((key, rank), -1) < step)
        last[(key, rank)] = step
        seen.add((key, step, rank))
        checks.check(f"{key} step {step}: world size", h["qparams.world-size"] == str(args.world_size))
        x = shards[(key[len(prefix):], step)][rank]
        if args.send == "stats":
            stats, (lo, hi) = json.loads(value), torch.aminmax(x)
            checks.check(f"{key} step {step} rank {rank}: stats", h["content-type"] == "application/json" and
                         same_float32s(record_float32s([stats["min"], stats["max"]]), torch.stack([lo, hi]).numpy()))
        else:
            got = np.load(io.BytesIO(value), allow_pickle=False)
            checks.check(f"{key} step {step} rank {rank}: NPY", h["content-type"] == "application/x-npy" and
                         got.dtype == np.float32 and got.tobytes() == x.numpy().tobytes())
    try:
        tc.read_input(args.bootstrap_servers, args.input_topic, prefix, accept, lambda: seen >= expected, args.timeout)
    except TimeoutError as e:
        checks.check("the input records of this run", False, str(e))
    checks.check("every (tensor, step, rank) sent arrived", seen == expected, f"{len(expected - seen)} missing")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    p.add_argument("--input-topic", default="activations")
    p.add_argument("--output-topic", default="qparams")
    p.add_argument("--mode", choices=("eager", "fx"), default="eager")
    p.add_argument("--send", choices=("stats", "npy"), default="stats")
    p.add_argument("--world-size", type=int, default=4)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--shard-size", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-delay", type=float, default=0.05, help="seconds, random per rank and step")
    p.add_argument("--stop-rank", type=int, default=-1)
    p.add_argument("--stop-after-step", type=int, default=-1)
    p.add_argument("--incomplete-steps", choices=("apply", "dlq"), default="apply", help="as the job's flag")
    p.add_argument("--inputs-only", action="store_true", help="check the input records; no job needed")
    p.add_argument("--timeout", type=float, default=180.0)
    args = p.parse_args()
    torch.backends.quantized.engine = tc.ENGINE
    checks = tc.Checks("torch-ddp")
    prefix = f"torch-ddp-{args.mode}-{uuid.uuid4().hex[:8]}/"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(rank_main, args=(args, prefix, port), nprocs=args.world_size)
    print(f"torch-ddp: {args.world_size} ranks sent {args.steps} steps under {prefix}", flush=True)
    states, shards, ref = reference(args)
    if args.inputs_only:
        check_inputs(checks, args, prefix, shards)
        return checks.summary()

    last = {prefix + name: max(s) for name, s in states.items() if s}
    latest, records = {}, []

    def done(r):
        if r.get("tensor", "").startswith(prefix):
            records.append(r)
            latest[r["tensor"]] = max(latest.get(r["tensor"], -1), r.get("step", -1))
        return all(latest.get(k, -1) >= s for k, s in last.items())
    try:
        tc.read_records(args.bootstrap_servers, args.output_topic, done, args.timeout, checks)
    except TimeoutError as e:
        checks.check("every tensor's last step recorded", False, f"{e}; last steps seen {latest}")
    for r in records:
        checks.check(f"{r['tensor']}: world_size", r.get("world_size") == args.world_size, str(r.get("world_size")))
        check_record(checks, prefix, states, r)
    checks.check("a record for every step applied", len(records) == sum(len(s) for s in states.values()),
                 f"{len(records)} records, {sum(len(s) for s in states.values())} steps")
    loaded = tc.prepare_model(tc.make_model(args.seed), args.mode, *observers(args, prefix, False))
    report = qt.load(loaded, records, on_problem="ignore")
    checks.check("load: every observer", report.ok, str(report))
    tc.compare_converted(checks, args.mode, tc.convert_model(ref, args.mode), tc.convert_model(loaded, args.mode),
                         tc.batch(args.seed + 1, 0, 4))
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
