#!/usr/bin/python3
"""The torch loop, with real torch and a running qparams job: a small CNN calibrated in this process
with torch's own observers and converted is the reference int8 model; the same model prepared with
qparams.torch's observer for its activations sends the same calibration batches through the job,
the job's records are loaded into it (qparams.torch.load, from the output topic) and torch converts
it. The two int8 models must be equal byte for byte: quantized weights (int_repr), scales, zero
points, biases and the outputs on a test batch. Eager mode (QuantStub, fused modules) and FX
(prepare_fx/convert_fx), on the qnnpack engine (onednn if this torch lacks it). Weights stay torch's
PerChannelMinMaxObserver in both models: torch observes weights inside convert, nothing to stream.

Every run sends its tensors under a fresh prefix ("torch-loop-<mode>-<id>/features.conv1.output"),
so runs never share observer state in the job. The job's rules come from --write-config:

    /usr/bin/python3 e2e/lib/torch_loop.py --write-config /tmp/torch-loop.yaml
    bin/qparams run --bootstrap-servers B --config /tmp/torch-loop.yaml --input-topic T --output-topic T2 &
    /usr/bin/python3 e2e/lib/torch_loop.py --bootstrap-servers B --input-topic T --output-topic T2 --mode both

Prints each failed check and 'torch-loop: N passed, M failed' last; exit status 1 on any failure.
"""
import argparse
import copy
import sys
import uuid

import torch

import torch_common as tc
from torch_common import qt


def run_mode(checks: tc.Checks, args, mode: str) -> None:
    model = tc.make_model(args.seed)
    batches = [tc.batch(args.seed, i, args.batch_size) for i in range(args.batches)]
    x_test = tc.batch(args.seed + 1, 0, 4)

    reference = tc.prepare_model(model, mode, tc.TORCH_ACT, tc.TORCH_MINMAX)
    prefix = f"torch-loop-{mode}-{uuid.uuid4().hex[:8]}/"
    where = dict(bootstrap_servers=args.bootstrap_servers, topic=args.input_topic, send=args.send, prefix=prefix)
    act = qt.observer("MovingAverageMinMaxObserver", averaging_constant=tc.AVERAGING, dtype=torch.quint8, **where)
    minmax = qt.observer("MinMaxObserver", dtype=torch.quint8, **where)
    streaming = tc.prepare_model(model, mode, act, minmax)
    keys = qt.name_observers(streaming)
    checks.check(f"{mode}: every activation observer streams",
                 len(keys) == len(qt.observer_names(reference)) >= 5, f"{list(keys)}")

    same_outputs = True
    with torch.no_grad():
        for x in batches:
            same_outputs &= tc._bits(reference(x)) == tc._bits(streaming(x))
    qt.flush(60)
    checks.check(f"{mode}: the prepared models' outputs are equal (forward returns its input)", same_outputs)
    checks.check(f"{mode}: the streaming observers kept their initial state until load",
                 all(float(o.min_val) == float("inf") and float(o.max_val) == float("-inf") for o in keys.values()))
    expected = {key: obs.qparams_step for key, obs in keys.items()}
    print(f"torch-loop: {mode}: {sum(expected.values())} batches of {len(keys)} tensors sent under {prefix}", flush=True)

    latest = {}

    def done(record):
        if record.get("tensor") in expected:
            latest[record["tensor"]] = record
        return all(latest.get(k, {}).get("batches", 0) >= n for k, n in expected.items())
    try:
        tc.read_records(args.bootstrap_servers, args.output_topic, done, args.timeout, checks)
        checks.check(f"{mode}: a record of every tensor after its last batch", True)
    except TimeoutError as e:
        missing = {k: latest.get(k, {}).get("batches", 0) for k, n in expected.items()
                   if latest.get(k, {}).get("batches", 0) < n}
        checks.check(f"{mode}: a record of every tensor after its last batch", False, f"{e}; got {missing}")
        return

    from_list = copy.deepcopy(streaming)
    report = qt.load(streaming, bootstrap_servers=args.bootstrap_servers, topic=args.output_topic,
                     on_problem="ignore", timeout=args.timeout)
    checks.check(f"{mode}: load from the topic: every observer loaded, nothing missing or mismatched",
                 report.ok and len(report.loaded) == len(keys), str(report))
    report = qt.load(from_list, list(latest.values()), on_problem="ignore")
    checks.check(f"{mode}: load from record dicts: every observer loaded", report.ok and len(report.loaded) == len(keys),
                 str(report))
    want = tc.observer_bits(reference)
    for loaded_model, source in ((streaming, "topic"), (from_list, "dicts")):
        got = tc.observer_bits(loaded_model)
        for name in want:
            checks.check(f"{mode}: {name} min_val/max_val bits ({source})", got.get(name) == want[name],
                         f"{got.get(name)} != {want[name]}")

    tc.compare_converted(checks, mode, tc.convert_model(reference, mode), tc.convert_model(streaming, mode), x_test)


def write_config(path: str) -> None:
    """The job's rules for both modes' observers, matching any run prefix ("*/")."""
    rules = {}
    for mode in ("eager", "fx"):
        act = qt.observer("MovingAverageMinMaxObserver", averaging_constant=tc.AVERAGING, dtype=torch.quint8)
        minmax = qt.observer("MinMaxObserver", dtype=torch.quint8)
        for rule in qt.config_rules(tc.prepare_model(tc.make_model(0), mode, act, minmax), match_prefix="*/"):
            if rules.setdefault(rule["match"], rule) != rule:
                raise SystemExit(f"torch-loop: eager and FX need different rules for {rule['match']}")
    catch_all = rules.pop("*/*")
    with open(path, "w", encoding="utf-8") as f:
        f.write(qt.rules_yaml(list(rules.values()) + [catch_all]))
    print(f"torch-loop: wrote {len(rules) + 1} rules to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--input-topic", default="activations")
    parser.add_argument("--output-topic", default="qparams")
    parser.add_argument("--mode", choices=("eager", "fx", "both"), default="both")
    parser.add_argument("--send", choices=("stats", "npy"), default="stats")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the job's records")
    parser.add_argument("--write-config", metavar="FILE", help="write the job's config rules and exit")
    args = parser.parse_args()
    if args.write_config:
        write_config(args.write_config)
        return 0
    torch.backends.quantized.engine = tc.ENGINE
    checks = tc.Checks("torch-loop")
    for mode in (("eager", "fx") if args.mode == "both" else (args.mode,)):
        run_mode(checks, args, mode)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
