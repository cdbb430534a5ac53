#!/usr/bin/env python3
"""PyTorch anchor for `npm run bench:train`: trains the same architecture, in PyTorch, on the
same images, and prints samples/s. A benchmark, not a dependency: it needs Debian's python3-torch.

  python3 scripts/bench/torch_anchor.py <model.json> <images.f32> <labels.i32> <count> <batch> <threads>

model.json holds the layer list tinyforge hands its own libtorch addon (src/train/torch/describe.ts):
the anchor builds exactly those layers as torch.nn modules (weights freshly initialised: speed does
not depend on their values). Prints one JSON line: {"samplesPerSecond", "seconds", "threads", "torch"}.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn


class NhwcFlatten(nn.Module):
    """tfjs flattens NHWC feature maps; keep its feature order (and its cost) here too."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1) if x.dim() == 4 else x.flatten(1)


def layer_module(layer, channels, features):
    kind = layer["type"]
    if kind in ("conv2d", "depthwise_conv2d"):
        shape = layer["weights"][0]["shape"]  # tfjs [KH, KW, Cin, Cout or multiplier]
        depthwise = kind == "depthwise_conv2d"
        out = shape[2] * shape[3] if depthwise else shape[3]
        return nn.Conv2d(shape[2], out, shape[0], layer.get("stride", 1),
                         shape[0] // 2 if layer.get("padding") == "same" else 0,
                         groups=shape[2] if depthwise else 1, bias=len(layer["weights"]) > 1), out
    if kind == "dense":
        shape = layer["weights"][0]["shape"]
        return nn.Linear(shape[0], shape[1], bias=len(layer["weights"]) > 1), shape[1]
    if kind == "batch_norm":
        n = layer["weights"][0]["shape"][0]
        bn = nn.BatchNorm2d if features is None else nn.BatchNorm1d
        return bn(n, eps=layer.get("epsilon", 1e-3), momentum=1 - layer.get("momentum", 0.99)), n
    if kind == "relu":
        return (nn.ReLU6() if layer.get("maxValue") else nn.ReLU()), channels
    if kind == "max_pool2d":
        return nn.MaxPool2d(layer["kernel"], layer["stride"]), channels
    if kind == "avg_pool2d":
        return nn.AvgPool2d(layer["kernel"], layer["stride"]), channels
    if kind == "global_avg_pool":
        return nn.AdaptiveAvgPool2d(1), channels
    if kind == "flatten":
        return NhwcFlatten(), None
    if kind == "dropout":
        return nn.Dropout(layer["rate"]), channels
    raise ValueError(f"unknown layer type {kind}")


def build(layers):
    modules, channels, features = [], None, None
    for layer in layers:
        module, width = layer_module(layer, channels, features)
        if layer["type"] in ("flatten", "global_avg_pool"):
            features = True
            if layer["type"] == "global_avg_pool":
                modules.append(module)
                module = nn.Flatten()
        elif layer["type"] == "dense":
            features = True
        channels = width if width is not None else channels
        modules.append(module)
    return nn.Sequential(*modules)


def main():
    spec_path, images_path, labels_path, count, batch, threads = sys.argv[1:7]
    count, batch, threads = int(count), int(batch), int(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    spec = json.load(open(spec_path))
    h, w, c = spec["inputShape"]
    images = torch.from_numpy(np.fromfile(images_path, dtype=np.float32)[: count * h * w * c].copy())
    images = images.reshape(count, h, w, c).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(np.fromfile(labels_path, dtype=np.int32)[:count].astype(np.int64))
    model = build(spec["layers"])
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def epoch(n):
        for start in range(0, n, batch):
            x, y = images[start:start + batch], labels[start:start + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

    epoch(min(count, batch * 3))  # warm-up, as tinyforge's benchmark does
    started, cpu_started = time.perf_counter(), time.process_time()
    epoch(count)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"samplesPerSecond": count / seconds, "seconds": seconds, "cpuSeconds": cpu_seconds,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
