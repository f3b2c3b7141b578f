"""The job's --config rules for a model's streaming observers: the same observer, with the same
torch arguments, for every tensor the model publishes (contract section 2)."""
import json
from collections import Counter, OrderedDict

import torch

from .naming import name_observers

_DEFAULT_EPS = float(torch.finfo(torch.float32).eps)


def _settings(obs) -> "OrderedDict[str, object]":
    """The rule body: the observer kind and its torch arguments, every one spelled out (the
    effective averaging_constant, ch_axis, dtype, qscheme, reduce_range; quant_min/quant_max and
    eps only when given and not torch's default), dtype and qscheme as the config spells them."""
    kwargs = obs.qparams_torch_kwargs
    rule = OrderedDict(observer=obs.qparams_kind)
    if hasattr(obs, "averaging_constant"):
        rule["averaging_constant"] = float(obs.averaging_constant)
    if hasattr(obs, "ch_axis"):
        rule["ch_axis"] = int(obs.ch_axis)
    rule["dtype"] = str(obs.dtype).replace("torch.", "")
    rule["qscheme"] = str(obs.qscheme).replace("torch.", "")
    rule["reduce_range"] = bool(obs.reduce_range)
    if kwargs.get("quant_min") is not None and kwargs.get("quant_max") is not None:
        rule["quant_min"], rule["quant_max"] = int(kwargs["quant_min"]), int(kwargs["quant_max"])
    if kwargs.get("eps") is not None and float(kwargs["eps"]) != _DEFAULT_EPS:
        rule["eps"] = float(kwargs["eps"])
    return rule


def config_rules(model: torch.nn.Module, match_prefix=None, collapse=True) -> list:
    """One rule per streaming observer of the prepared model, matching its Kafka key exactly;
    match_prefix (e.g. "*") replaces the observers' own prefix in the globs. With collapse, the
    observers with the most common settings share one trailing catch-all rule instead: "*" after
    the prefix when all observers have one prefix, else "*"."""
    rules, prefixes = [], set()
    for obs in name_observers(model).values():
        prefix = obs.qparams_settings["prefix"] if match_prefix is None else match_prefix
        prefixes.add(prefix)
        rules.append(OrderedDict([("match", prefix + obs.qparams_name)] + list(_settings(obs).items())))
    if not collapse or not rules:
        return rules

    def body(rule):
        return tuple((k, repr(v)) for k, v in rule.items() if k != "match")

    common = Counter(body(r) for r in rules).most_common(1)[0][0]
    catch_all = next(r for r in rules if body(r) == common).copy()
    catch_all["match"] = (prefixes.pop() if len(prefixes) == 1 else "") + "*"
    return [r for r in rules if body(r) != common] + [catch_all]


def _yaml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value.isidentifier():
        return value
    return json.dumps(value)  # a YAML double-quoted scalar


def rules_yaml(rules: list, nonfinite="reject") -> str:
    """A config file (YAML) of rules as config_rules returns them."""
    lines = ["# qparams observer rules written by qparams.torch: the job's observers must be the",
             "# model's (same kind and torch arguments), or load() reports a mismatch.",
             f"nonfinite: {nonfinite}", "observers:"]
    for rule in rules:
        items = list(rule.items())
        lines.append(f"  - {items[0][0]}: {_yaml(items[0][1])}")
        lines += [f"    {k}: {_yaml(v)}" for k, v in items[1:]]
    return "\n".join(lines) + "\n"


def config_yaml(model: torch.nn.Module, match_prefix=None, collapse=True, nonfinite="reject") -> str:
    """The job's config file (YAML) for the model's streaming observers (config_rules)."""
    return rules_yaml(config_rules(model, match_prefix, collapse), nonfinite)
