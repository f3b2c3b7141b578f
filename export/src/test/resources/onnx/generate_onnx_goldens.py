#!/usr/bin/python3
"""Goldens of the onnx export's test (OnnxExportTest), from Debian's python3-torch:

- model.onnx: a small CNN (conv -> relu -> flatten -> linear, two outputs) made by torch.onnx.export;
- records.jsonl: qparams records of four of its values, as torch's own observers compute them over
  three calibration batches (the input per tensor, the conv output per channel along axis 1, the
  relu output and the linear output per tensor, quint8 affine and qint8 symmetric), keyed by the
  module's tensor name; rename.txt maps them to the ONNX value names;
- expected.json: a test input and what torch computes with a quantize-dequantize at each of those
  four values, keyed by ONNX value name: the quantized integers (quantize_per_tensor /
  quantize_per_channel, int_repr()), the dequantized floats (dequantize()) and torch's
  fake-quantize of the same float input (fake_quantize_per_tensor_affine /
  fake_quantize_per_channel_affine), floats as float32 hex bits. Each value's float input is what
  torch computes from the previous value's dequantized output. Also, for the per-tensor records
  whose range TensorRT's symmetric int8 keeps (symmetric, or a zero point of 0), the TensorRT
  calibration cache value torch computes: the big-endian float32 bits of
  max(-min_val, max_val) / 127 in float32 (TensorRtExportTest).

    /usr/bin/python3 export/src/test/resources/onnx/generate_onnx_goldens.py   (from the repo root)
"""
import json
import os
import struct
import warnings

import torch
from torch import nn
from torch.ao.quantization import observer as obs

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        a = self.relu(self.conv(x))
        return a, self.fc(a.flatten(1))


def f32(x):
    return float(struct.unpack("<f", struct.pack("<f", float(x)))[0])


def hexes(t):
    return [struct.pack(">f", v).hex() for v in t.reshape(-1).tolist()]


def record(tensor, o, kind, extra):
    scale, zp = o.calculate_qparams()
    per_channel = scale.dim() == 1 and hasattr(o, "ch_axis")
    vals = lambda t: [f32(v) for v in t.reshape(-1).tolist()] if per_channel else f32(t.item())
    r = {"tensor": tensor, "status": "ok", "observer": kind, "dtype": str(o.dtype).replace("torch.", ""),
         "qscheme": str(o.qscheme).replace("torch.", ""), "quant_min": o.quant_min, "quant_max": o.quant_max}
    r.update(extra)
    r.update({"batches": 3, "min_val": vals(o.min_val), "max_val": vals(o.max_val), "scale": vals(scale),
              "zero_point": [int(v) for v in zp.tolist()] if per_channel else int(zp.item()),
              "source": {"file": "generate_onnx_goldens.py", "index": 2}})
    return r, scale, zp


def main():
    torch.manual_seed(20261202)
    net = Net().eval()
    x = torch.randn(2, 3, 8, 8)
    torch.onnx.export(net, x, os.path.join(HERE, "model.onnx"), opset_version=13, input_names=["input"],
                      output_names=["relu_out", "fc_out"])
    observers = {
        "input": (obs.MovingAverageMinMaxObserver(dtype=torch.quint8), "MovingAverageMinMaxObserver",
                  {"averaging_constant": 0.01}),
        "conv.output": (obs.MovingAveragePerChannelMinMaxObserver(ch_axis=1, dtype=torch.quint8,
                                                                  qscheme=torch.per_channel_affine),
                        "MovingAveragePerChannelMinMaxObserver", {"averaging_constant": 0.01, "ch_axis": 1}),
        "relu.output": (obs.MinMaxObserver(dtype=torch.quint8), "MinMaxObserver", {}),
        "fc.output": (obs.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric), "MinMaxObserver", {}),
    }
    with torch.no_grad():
        for _ in range(3):
            batch = torch.randn(4, 3, 8, 8) * 1.5
            observers["input"][0](batch)
            c = net.conv(batch)
            observers["conv.output"][0](c)
            r = net.relu(c)
            observers["relu.output"][0](r)
            observers["fc.output"][0](net.fc(r.flatten(1)))
    records, qp = [], {}
    for name, (o, kind, extra) in observers.items():
        rec, scale, zp = record(name, o, kind, extra)
        records.append(rec)
        qp[name] = (o, scale, zp)

    onnx_names = {"input": "input", "conv.output": "/conv/Conv_output_0", "relu.output": "relu_out",
                  "fc.output": "fc_out"}
    expected = {"torch": torch.__version__, "x": {"shape": list(x.shape), "hex": hexes(x)}, "values": {},
                "tensorrt": {}}
    for name, (o, scale, zp) in qp.items():
        if scale.dim() == 0 or not hasattr(o, "ch_axis"):
            if o.qscheme == torch.per_tensor_symmetric or int(zp.item()) == 0:
                amax = torch.maximum(-o.min_val, o.max_val)  # float32 tensors
                expected["tensorrt"][name] = hexes(amax / torch.tensor(127, dtype=torch.float32))[0]

    def qdq(name, t):
        """torch's quantize and fake-quantize of t at tensor name; the dequantized value goes on."""
        o, scale, zp = qp[name]
        if scale.dim() == 1 and hasattr(o, "ch_axis"):
            q = torch.quantize_per_channel(t, scale, zp, o.ch_axis, o.dtype)
            fq = torch.fake_quantize_per_channel_affine(t, scale, zp.to(torch.int32), o.ch_axis, o.quant_min,
                                                        o.quant_max)
        else:
            q = torch.quantize_per_tensor(t, float(scale.item()), int(zp.item()), o.dtype)
            fq = torch.fake_quantize_per_tensor_affine(t, float(scale.item()), int(zp.item()), o.quant_min,
                                                       o.quant_max)
        expected["values"][onnx_names[name]] = {
            "tensor": name, "dtype": str(o.dtype).replace("torch.", ""), "shape": list(q.shape),
            "int_repr": q.int_repr().reshape(-1).tolist(), "dequantized": hexes(q.dequantize()),
            "fake_quantized": hexes(fq)}
        return q.dequantize()

    with torch.no_grad():
        c = qdq("conv.output", net.conv(qdq("input", x)))
        relu = qdq("relu.output", net.relu(c))
        qdq("fc.output", net.fc(relu.flatten(1)))
    with open(os.path.join(HERE, "records.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    with open(os.path.join(HERE, "rename.txt"), "w") as f:
        f.write("# qparams tensor name -> ONNX value name in model.onnx (torch.onnx.export's names)\n")
        f.writelines(f"{tensor} {value}\n" for tensor, value in onnx_names.items())
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
