"""torch's observers from qparams records (Debian's python3-torch).

`observer_from_record(record)` builds the torch observer a qparams record names, from the record's
own fields: the export consumer (examples/python/consumer.py) checks records with it, and the
torch export's test (export/src/test/resources/torch/check_torch_export.py) prepares models with it.
"""
import torch
from torch.ao.quantization import observer as torch_observers


def observer_from_record(record: dict):
    """Without a config: torch's observer from the record's own fields. A quant range equal to the
    dtype's default (or its reduce_range default) is left to torch, which matters for quint8
    symmetric zero points; eps is torch's default."""
    cls = getattr(torch_observers, record["observer"])
    kwargs = {"dtype": getattr(torch, record["dtype"]), "qscheme": getattr(torch, record["qscheme"])}
    if "averaging_constant" in record:
        kwargs["averaging_constant"] = float(record["averaging_constant"])
    if "ch_axis" in record:
        kwargs["ch_axis"] = int(record["ch_axis"])
    wanted = (record["quant_min"], record["quant_max"])
    for extra in ({}, {"reduce_range": True}, {"quant_min": wanted[0], "quant_max": wanted[1]}):
        obs = cls(**kwargs, **extra)
        if (obs.quant_min, obs.quant_max) == wanted:
            return obs
    return cls(**kwargs, quant_min=wanted[0], quant_max=wanted[1])
