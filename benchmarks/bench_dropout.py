"""labkit's CPU dropout (``labkit.models.common.Dropout``: one random byte per element) against
``torch.nn.Dropout`` (one random number per element, ``bernoulli_``), forward and backward on the
feature maps the chapters' classifiers drop, in bf16 autocast's dtype and channels-last as they
train; both measured in this one run, so the ratio holds on this machine.

    python benchmarks/bench_dropout.py

Measured on a 2-core AMD EPYC, one thread, dropping 0.25 of 64 maps of 16×23×23 (the Simple FER
classifier's first block at a quarter of its width): torch 5.2 ms, labkit 1.7 ms (3.1x), the same
in either layout; LeNet's 128×64×12×12 11.1 ms against 3.4 ms; a dense layer's 64×256 1.6x. A
whole training step (batch 64, bf16) of that classifier went from 81.7 to 73.5 ms, paper 000's
CNN from 100.0 to 94.1 ms.
"""
from __future__ import annotations

import argparse
import time

import torch

from labkit.models.common import Dropout


def per_call(layer: torch.nn.Module, x: torch.Tensor, n: int) -> float:
    for _ in range(3):
        layer(x).sum().backward()
    start = time.perf_counter()
    for _ in range(n):
        layer(x).sum().backward()
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as a chapter's worker)")
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    shapes = {"FER Simple, block 1": (64, 16, 23, 23), "FER Simple, block 2": (64, 32, 11, 11),
              "LeNet (MNIST)": (128, 64, 12, 12), "dense 256": (64, 256)}
    print(f"{'maps':<22} {'layout':<14} {'torch ms':>9} {'labkit ms':>10} {'ratio':>6}")
    for name, shape in shapes.items():
        for layout in ("contiguous", "channels-last") if len(shape) == 4 else ("contiguous",):
            x = torch.randn(shape)
            if layout == "channels-last":
                x = x.to(memory_format=torch.channels_last)
            x = x.bfloat16().requires_grad_(True)
            ref = per_call(torch.nn.Dropout(0.25), x, args.repeat)
            ours = per_call(Dropout(0.25), x, args.repeat)
            print(f"{name:<22} {layout:<14} {ref:9.2f} {ours:10.2f} {ref / ours:5.2f}x")


if __name__ == "__main__":
    main()
