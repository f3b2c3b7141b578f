"""Tensor names of a prepared model's observers, the same for qparams' streaming observers and for
torch's own: the key a streaming observer publishes under, and the record load() gives each.

- Eager mode (torch.ao.quantization.prepare): the observer of module M sits at
  "M.activation_post_process"; its tensor is "M.output" ("quant.output" for a QuantStub named
  quant, which observes the model's input). An observer anywhere else is named by its own path.
- FX (prepare_fx): observers are top-level modules "activation_post_process_<i>" called on a graph
  node; the tensor is "<node>.output", where <node> is the observed node's module path for a
  call_module node ("features.conv1.output", as in eager mode) and the node's name otherwise
  ("x.output" for an input x, "flatten.output", "add_1.output"). FX shares one observer between
  some nodes (a max-pool's output and its input): the shared observer takes the name of its first
  node in graph order and publishes every batch it sees under it, as torch updates it with each.
  A second observer whose name is taken already (two observers on one node) keeps its module name.
"""
from collections import OrderedDict

import torch
from torch.ao.quantization.observer import ObserverBase

SUFFIX = ".output"
EAGER_LEAF = "activation_post_process"


def _eager_name(path: str) -> str:
    if path == EAGER_LEAF:
        return "output"
    if path.endswith("." + EAGER_LEAF):
        return path[:-len(EAGER_LEAF) - 1] + SUFFIX
    return path


def _fx_names(model: torch.fx.GraphModule, by_id: dict) -> "OrderedDict[int, str]":
    named = OrderedDict()
    for node in model.graph.nodes:
        if node.op != "call_module" or not isinstance(node.target, str):
            continue
        module = model.get_submodule(node.target)
        if id(module) not in by_id or id(module) in named:
            continue
        observed = node.args[0] if node.args else None
        if not isinstance(observed, torch.fx.Node):
            named[id(module)] = node.target
        elif observed.op == "call_module" and id(model.get_submodule(observed.target)) not in by_id:
            named[id(module)] = observed.target + SUFFIX
        else:
            named[id(module)] = observed.name + SUFFIX
    return named


def observer_names(model: torch.nn.Module) -> "OrderedDict[str, ObserverBase]":
    """Every observer of a prepared model (eager or FX) by tensor name, in model order (each
    shared observer once). Works on torch's observers as on qparams' streaming ones."""
    by_id = OrderedDict()
    paths = {}
    for path, module in model.named_modules():
        if isinstance(module, ObserverBase):
            by_id[id(module)] = module
            paths[id(module)] = path
    fx = _fx_names(model, by_id) if isinstance(model, torch.fx.GraphModule) else {}
    names = OrderedDict()
    for ident, module in by_id.items():
        name = fx.get(ident) or _eager_name(paths[ident])
        if name in names:
            name = paths[ident]
        if name in names:
            raise ValueError(f"qparams: two observers are both named {name!r}")
        names[name] = module
    return names


def name_observers(model: torch.nn.Module) -> "OrderedDict[str, ObserverBase]":
    """Tells every qparams streaming observer of the prepared model its tensor name; call it on the
    model that will run (after prepare or prepare_fx, and again after copying the model). Returns
    the streaming observers by Kafka key (their prefix + name)."""
    from .streaming import _Streaming
    named = OrderedDict()
    for name, module in observer_names(model).items():
        if isinstance(module, _Streaming):
            module.qparams_name = name
            named[module.qparams_key] = module
    return named
