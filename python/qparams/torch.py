"""qparams.torch: calibrate a PyTorch model with the qparams job (docs/torch.md).

    import qparams.torch as qt
    qconfig = QConfig(activation=qt.observer(bootstrap_servers="127.0.0.1:9092", topic="activations"),
                      weight=torch.ao.quantization.default_per_channel_weight_observer)
    prepared = prepare(model)            # or prepare_fx(model, QConfigMapping().set_global(qconfig), ...)
    qt.name_observers(prepared)          # each streaming observer learns its tensor name
    for batch in calibration: prepared(batch)   # publishes every observed batch to Kafka
    qt.flush()
    report = qt.load(prepared, bootstrap_servers="127.0.0.1:9092", topic="qparams")
    quantized = convert(prepared)        # or convert_fx

Inside this package `import torch` is the real torch (absolute imports); do not run this file as a
script or put python/qparams/ itself on sys.path (put python/ there).
"""
from .loading import LoadReport, QParamsLoadError, load
from .naming import name_observers, observer_names
from .records import from_file, from_topic, latest
from .rules import config_rules, config_yaml, rules_yaml
from .streaming import (CONTENT_TYPES, RANK, STEP, WORLD_SIZE, StreamingMinMaxObserver,
                        StreamingMovingAverageMinMaxObserver, StreamingMovingAveragePerChannelMinMaxObserver,
                        StreamingPerChannelMinMaxObserver, distributed_place, flush, observer)

__all__ = ["observer", "name_observers", "observer_names", "flush", "load", "LoadReport", "QParamsLoadError",
           "config_rules", "config_yaml", "rules_yaml", "from_file", "from_topic", "latest", "distributed_place",
           "StreamingMovingAverageMinMaxObserver", "StreamingMinMaxObserver", "StreamingPerChannelMinMaxObserver",
           "StreamingMovingAveragePerChannelMinMaxObserver", "STEP", "WORLD_SIZE", "RANK", "CONTENT_TYPES"]
