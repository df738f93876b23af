"""Chapter 004's class-conditional GAN on full MNIST: LeNet score against training minutes.

The LeNet score is the paper's measure (Figure 7): a LeNet trained on real MNIST classifies
generated digits of each class, and the score is its accuracy (here on 100 digits per class,
fresh noise, after every epoch). The paper reports 97.6% with one-sided label smoothing after 25
epochs at F=1. Each variant trains with the same seed; times are training wall time on this
machine (scoring excluded), so compare variants as ratios within one run.

Variants (``--variants``, default all):

- ``quick``: the chapter's quick recipe (F 0.25, batch 64, Adam 0.002, label smoothing 0.9),
  with the trainer's default precision (bf16 on CPUs with native bf16);
- ``quick-fp32``: the same in float32, to show bf16 costs no quality;
- ``ema``: the quick recipe, sampled from a moving average of the generator (decay 0.999, warmed
  up as TensorFlow's ExponentialMovingAverage does: within 5 epochs the warm-up, not 0.999, sets
  the decay, so a larger decay changes nothing here);
- ``ema-F0.5``: the same at half the paper's width;
- ``ema-decay``: the average, and both learning rates decaying linearly to 0 over the last 60%
  of 5 epochs (chapter 004's fourth CCGAN);
- ``ema-decay-all``: the same decay over all 5 epochs;
- ``paper`` and ``paper-bf16`` (not run unless named; for a GPU): the paper's width (F=1) for its
  25 epochs, in float32 and in bf16 autocast: the paper's own figure, and whether bf16 keeps it.

The table reads each curve at ``--minutes`` of training (the last epoch that ended by then): its
score then, the mean of its last three epochs, and its best.

    python benchmarks/bench_mnist_ccgan.py --data ../shared/data --minutes 3
    python benchmarks/bench_mnist_ccgan.py --device cuda --variants quick quick-fp32 paper paper-bf16

On a GPU, bf16 means ``LABKIT_CUDA_BF16=1`` (labkit's default there is float32 with TF32
convolutions) and the step replays as a CUDA graph (``labkit.train.graphs``).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from unittest import mock

import torch

os.environ.setdefault("LABKIT_PROGRESS", "off")

from labkit.data.mnist import load_mnist  # noqa: E402
from labkit.experiments import mnist as ch  # noqa: E402
from labkit.runs import fit  # noqa: E402
from labkit.runtime import cpu_bf16  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {
    "quick": dict(F=0.25, ema=0.0, bf16=True),
    "quick-fp32": dict(F=0.25, ema=0.0, bf16=False),
    "ema": dict(F=0.25, ema=0.999, bf16=True),
    "ema-F0.5": dict(F=0.5, ema=0.999, bf16=True),
    "ema-decay": dict(F=0.25, ema=0.999, decay_from=0.4, epochs=5, bf16=True),
    "ema-decay-all": dict(F=0.25, ema=0.999, decay_from=0.0, epochs=5, bf16=True),
    "paper": dict(F=1.0, ema=0.0, epochs=25, bf16=False),
    "paper-bf16": dict(F=1.0, ema=0.0, epochs=25, bf16=True),
}
ON_REQUEST = ("paper", "paper-bf16")  # F=1 for 25 epochs: hours on 2 CPU cores


def precision(device: str, bf16: bool) -> dict[str, str]:
    """The environment that gives this precision: on a CPU bf16 is the default where it is native;
    on a GPU float32 (TF32 convolutions) is."""
    if device == "cuda":
        return {"LABKIT_CUDA_BF16": "1" if bf16 else "0"}
    return {} if bf16 else {"LABKIT_CPU_BF16": "0"}


def curve(name, v, train, lenet, max_epochs, root, device="cpu", per_class=100):
    """One variant: (epoch, training minutes, LeNet score) after every epoch. The minutes are the
    trainer's own count less the time the score itself took."""
    spec = replace(ch.gan_spec(F=v["F"], D=1, B=64, lr=0.002, conditional=True, real_target=0.9, seed=0),
                   name=f"bench-{name}", ema=v["ema"], decay_from=v.get("decay_from"))
    score, scoring = ch.lenet_score(lenet, per_class), []

    def timed(t):
        start = time.perf_counter()
        value = score(t)
        scoring.append(time.perf_counter() - start)
        print(f"  {name:12s} epoch {t.epoch}: LeNet score {value:.1%}", flush=True)
        return value

    with mock.patch.dict(os.environ, precision(device, v["bf16"])):  # autocast reads it on every step
        t = fit(spec, train, v.get("epochs", max_epochs), metrics={"lenet_score": timed}, device=device, run_root=root)
    minutes, points = 0.0, []
    for h, spent in zip(t.history, scoring):
        minutes += (h["seconds"] - spent) / 60
        points.append((h["epoch"], minutes, h["lenet_score"]))
    return points


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="folder with MNIST/raw")
    ap.add_argument("--minutes", type=float, default=3.0, help="training minutes at which the table reads each curve")
    ap.add_argument("--max-epochs", type=int, default=6,
                    help="epochs of a variant without a schedule of its own (6: about 3.5 min on 2 cores)")
    ap.add_argument("--variants", nargs="*", default=[v for v in VARIANTS if v not in ON_REQUEST], choices=list(VARIANTS))
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = ap.parse_args()
    train, test = load_mnist(args.data, "train"), load_mnist(args.data, "test")
    where = (f"GPU {torch.cuda.get_device_name()}" if args.device == "cuda" else
             f"{torch.get_num_threads()} CPU threads, native bf16: {cpu_bf16()}")
    print(f"full MNIST: {len(train):,} training digits; {where}")
    with tempfile.TemporaryDirectory(prefix="bench-mnist-") as root:  # fresh runs: each trains from its first step
        start = time.perf_counter()
        lenet = fit(ch.lenet_spec(0), train, 2, device=args.device, run_root=root).model.eval()
        print(f"LeNet (2 epochs, {(time.perf_counter() - start) / 60:.1f} min): "
              f"test accuracy {ch.evaluate(lenet, test.x, test.y):.1%}")
        table = {name: curve(name, VARIANTS[name], train, lenet, args.max_epochs, root, args.device)
                 for name in args.variants}
    print("\nLeNet score against training minutes:")
    for name, pts in table.items():
        print(f"  {name:14s} " + ", ".join(f"{m:.2f} min {v:.1%}" for _, m, v in pts))
    print(f"\nread at {args.minutes:g} training minutes (or the variant's last epoch, if it ends sooner):")
    print(f"{'variant':14s} {'epochs':>6s} {'minutes':>8s} {'last':>7s} {'mean of last 3':>15s} {'best':>7s}")
    for name, pts in table.items():
        pts = [p for p in pts if p[1] <= args.minutes] or pts[:1]
        last3 = sum(p[2] for p in pts[-3:]) / len(pts[-3:])
        print(f"{name:14s} {pts[-1][0]:6d} {pts[-1][1]:8.2f} {pts[-1][2]:7.1%} {last3:15.1%} {max(p[2] for p in pts):7.1%}")
    print("paper reported: 97.6% (label smoothing, F=1, 25 epochs)")


if __name__ == "__main__":
    main()
