"""Independent runs at once (``labkit.runs.fit_many``: forked workers, cores ÷ runs threads each)
against the same runs one after another with every core's thread, for each family of the
chapters' networks at its quick size. Both sides train the same specs on the same images in
this one process run, so the ratio holds on this machine; the data are random (speed does not
depend on what the pixels show).

    python benchmarks/bench_parallel.py [--runs 2] [--images 1.0]

Measured on a 2-core AMD EPYC (AVX-512, AVX512-BF16), two runs of one epoch each, including
starting the workers and loading their runs: FER classifier 1.31x, Radford DCGAN 1.37x, WGAN-GP
1.47x, CycleGAN 1.13x, MNIST CCGAN 1.29x. On more cores the runs get more threads or more of them
go at once; with more runs than cores, one per core goes at once, or all of them, sharing the
cores, when there are fewer than two per core (``labkit.parallel.workers``). Three runs each (``--runs 3 --images 0.5``), in images/s at once:
all three sharing the 2 cores 2077, 1439, 439, 80, 2013 against two at a time
(``LABKIT_WORKERS=2``) 1444, 1190, 390, 69, 1688, in the order above.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

os.environ.setdefault("LABKIT_PROGRESS", "off")

from labkit import parallel  # noqa: E402
from labkit.data.core import ImageSet  # noqa: E402
from labkit.experiments import cyclegan, fer, mnist, radford  # noqa: E402
from labkit.runs import fit, fit_many  # noqa: E402


def faces(n: int, classes: int = 7, shape=(1, 48, 48)) -> ImageSet:
    g = torch.Generator().manual_seed(0)
    return ImageSet(torch.rand(n, *shape, generator=g) * 2 - 1, torch.randint(0, classes, (n,), generator=g),
                    [str(c) for c in range(classes)], "random")


def families(scale: float):
    """name → (spec for a seed, data, images one epoch trains)."""
    n = lambda k: max(64, int(k * scale))  # noqa: E731
    clf, gan, cyc, mn = faces(n(4096)), faces(n(2048)), faces(n(384)), faces(n(4096), 10, (1, 28, 28))
    A, B = cyc.x[: len(cyc) // 2], cyc.x[len(cyc) // 2:]
    return {
        "FER classifier (paper 000 CNN, F 1/8, batch 64, augmented)":
            (lambda s: fer.classifier_spec("paper000", F=0.125, batch=64, lr=1e-3, seed=s), clf, len(clf)),
        "Radford DCGAN, 48x48 faces (F 1/4, batch 32)":
            (lambda s: radford.dcgan_spec("bench-dcgan", F=0.25, batch=32, lr=1e-3, seed=s), gan, len(gan)),
        "WGAN-GP, 48x48 faces (F 1/4, batch 32, 2 critic steps)":
            (lambda s: cyclegan.fake_gan_specs(F=0.25, batch=32, critic_steps=2, seed=s)["WGAN-GP"], gan, len(gan)),
        "CycleGAN, 48x48 faces (F 1/8, 6 blocks, batch 8)":
            (lambda s: cyclegan.cyclegan_spec("CycleGAN", "bench-cyclegan", F=0.125, blocks=6, batch=8, lr_g=5e-4,
                                              lr_d=2.5e-4, seed=s), (A, B), len(A)),
        "MNIST CCGAN (F 1/4, batch 64)":
            (lambda s: mnist.gan_spec(F=0.25, D=1, B=64, lr=0.002, conditional=True, real_target=0.9, seed=s), mn, len(mn)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=parallel.cores(), help="runs per family (default: the cores)")
    ap.add_argument("--images", type=float, default=1.0, help="scale of each run's epoch (1: about 3-10 s)")
    args = ap.parse_args()
    cores = parallel.cores()
    n = parallel.at_once(args.runs)
    print(f"{cores} cores; {args.runs} runs per family; at once: {n} workers of "
          f"{max(1, cores // n)} thread(s); one after another: {torch.get_num_threads()} threads")
    print(f"\n{'family':58s} {'one after another':>18s} {'at once':>10s} {'ratio':>6s}")
    for name, (spec, data, images) in families(args.images).items():
        seeds = range(args.runs)
        with tempfile.TemporaryDirectory(prefix="bench-parallel-") as root:
            start = time.perf_counter()
            for s in seeds:
                fit(spec(s), data, 1, device="cpu", run_root=f"{root}/serial")
            serial = time.perf_counter() - start
            start = time.perf_counter()
            fit_many({s: (spec(s), data, 1) for s in seeds}, device="cpu", run_root=f"{root}/many")
            many = time.perf_counter() - start
        total = images * args.runs
        print(f"{name:58s} {total / serial:12.0f} img/s {total / many:6.0f} img/s {serial / many:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
