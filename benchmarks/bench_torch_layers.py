#!/usr/bin/python3
"""Single-layer workloads that shared/bench/bench_torch.py lacks, timed by its method (imported from bench_torch.py).

Run with Debian's interpreter: /usr/bin/python3 bench_torch_layers.py [norm|conv|cnnbn|transformer]
Each prints `RESULT name min median unit iters extra`, as Nabla.Benchmarks does under the same names.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_torch as bt  # noqa: E402  (same time_it / report / quiet-machine logic)


def layer_fwd_bwd(name, layer, shape):
    """Forward + backward of one layer in training mode; grads set to None before each step."""
    layer.train()
    x = torch.randn(*shape, requires_grad=True)
    dy = torch.randn(*shape)

    def step():
        x.grad = None
        layer.zero_grad(set_to_none=True)
        layer(x).backward(dy)

    t = bt.time_it(step, warmup=5)
    n = 1
    for s in shape:
        n *= s
    bt.report(name, t[0] * 1e3, bt.median(t) * 1e3, "ms/iter", len(t),
              f"shape={'x'.join(map(str, shape))} MB(x)={n * 4 / 1e6:.1f}")


def batchnorm2d_fwd_bwd():
    layer_fwd_bwd("batchnorm2d_fwd_bwd", nn.BatchNorm2d(64), (32, 64, 56, 56))


def layernorm_fwd_bwd():
    layer_fwd_bwd("layernorm_fwd_bwd", nn.LayerNorm(768), (64, 512, 768))


def cnn_nobn_train():
    """bench_torch.py's cnn without BatchNorm and with SGD: the step the convolution issue measures."""
    import torch.nn.functional as F  # noqa: F401  (bt.train_bench uses it)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
    x = torch.randn(32, 3, 32, 32)
    y = torch.randint(0, 10, (32,))
    bt.train_bench("cnn_nobn_train_b32", model, x, y, torch.optim.SGD(model.parameters(), lr=0.01), 32, warmup=5)


def cnnbn_train():
    """`nabla train --model cnn`'s network (conv3x3-BN-ReLU x3, 32/64/128) and optimizer (SGD lr 0.05, momentum 0.9), batch 32 of 3x32x32."""
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
    x = torch.randn(32, 3, 32, 32)
    y = torch.randint(0, 10, (32,))
    bt.train_bench("cnnbn_train_b32", model, x, y, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9), 32, warmup=5)


def conv2d_fwd_resnet():
    """Conv2d(64, 64, 3, padding=1) forward alone on a ResNet-like 8x64x56x56 input, no grad."""
    conv = nn.Conv2d(64, 64, 3, padding=1)
    x = torch.randn(8, 64, 56, 56)

    def step():
        with torch.no_grad():
            conv(x)

    t = bt.time_it(step, warmup=5)
    gflop = 2.0 * 8 * 64 * 56 * 56 * 64 * 9 / 1e9
    bt.report("conv2d_fwd_resnet_b8", t[0] * 1e3, bt.median(t) * 1e3, "ms/call", len(t),
              f"GFLOP/s(median)={gflop / bt.median(t):.0f}")


def encoder_layer_fwd_bwd():
    """One TransformerEncoderLayer(256, 4 heads, ff 1024, dropout 0, batch_first) forward + backward on (16, 128, 256)."""
    layer = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True)
    layer.train()
    x = torch.randn(16, 128, 256, requires_grad=True)
    dy = torch.randn(16, 128, 256)

    def step():
        x.grad = None
        layer.zero_grad(set_to_none=True)
        layer(x).backward(dy)

    t = bt.time_it(step, warmup=3)
    flop = 3.0 * (8.0 * 16 * 128 * 256 * 256 + 4.0 * 16 * 128 * 128 * 256 + 4.0 * 16 * 128 * 256 * 1024)
    bt.report("encoder_layer_fwd_bwd", t[0] * 1e3, bt.median(t) * 1e3, "ms/iter", len(t),
              f"shape=16x128x256 heads=4 ff=1024 GFLOP/s(median)={flop / 1e9 / bt.median(t):.0f}")


WORKLOADS = {"norm": [batchnorm2d_fwd_bwd, layernorm_fwd_bwd], "conv": [cnn_nobn_train, conv2d_fwd_resnet], "cnnbn": [cnnbn_train],
             "transformer": [encoder_layer_fwd_bwd]}


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else "all"
    if only != "all" and only not in WORKLOADS:
        print(f"usage: {sys.argv[0]} [all|{'|'.join(WORKLOADS)}]", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print(f"# PyTorch {torch.__version__} | python {sys.version.split()[0]} ({sys.executable}) | "
          f"threads={torch.get_num_threads()} interop={torch.get_num_interop_threads()}")
    print("RESULT\tname\tmin\tmedian\tunit\titers\textra")
    for key, fns in WORKLOADS.items():
        if only in ("all", key):
            for fn in fns:
                fn()
    return 0


if __name__ == "__main__":
    sys.exit(main())
