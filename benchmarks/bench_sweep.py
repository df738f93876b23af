"""A quick sweep, serial against worker processes and Ray, and Ray on 1 against 2 CPUs, in one process.

The sweep is the MNIST chapter's quick grid (three F × D × B settings) as three small but real
runs: each trains paper 004's class-conditional GAN at quarter width on the embedded MNIST digits
for a fixed number of steps, as a sweep callable. Modes, each on a fresh output folder:

- serial: ``backend="serial"``, one run after another in this process with torch's own thread count
  (every core), as without Ray;
- serial-1t: the same with torch held to 1 thread (parallel runs, not threads, make the rest of the gap);
- local: ``backend="local"`` (the default without a Ray address), as many runs at once as there
  are cores, in forked worker processes of :mod:`labkit.parallel` that share them;
- Ray, 2 CPUs: a local cluster of 2 CPUs, each run 1 CPU thread, two at once;
- Ray, 1 CPU: a local cluster of 1 CPU, one run at a time, each 1 thread.

Ray's start-up (``ray.init``) is timed apart and left out of the sweep times; a sweep that starts its
own cluster pays it once. We print seconds per mode and the ratios.

    python benchmarks/bench_sweep.py                 # about 10 minutes on 2 busy cores
    python benchmarks/bench_sweep.py --steps 30 --repeat 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LABKIT_PROGRESS", "off")

from labkit.runner import sweep  # noqa: E402

MODES = ("serial", "serial-1t", "local", "ray-2cpu", "ray-1cpu")
GRID = [{"F": 0.25, "D": 1, "B": 64}, {"F": 0.25, "D": 2, "B": 64}, {"F": 0.25, "D": 1, "B": 128}]  # the quick grid


def train_steps(F: float, D: int, B: int, steps: int) -> dict:
    """Train the MNIST class-conditional GAN for ``steps`` steps on the embedded digits."""
    import torch
    import torch.nn.functional as F_

    from labkit.data.mnist import load_mnist
    from labkit.models import MnistDiscriminator, MnistGenerator

    data = load_mnist(None, "train", quiet=True)
    x, y = data.x, data.y
    torch.manual_seed(0)
    G, Dn = MnistGenerator(F=F, num_classes=10), MnistDiscriminator(F=F, depth=D, num_classes=10)
    og = torch.optim.Adam(G.parameters(), 2e-3, betas=(0.5, 0.999))
    od = torch.optim.Adam(Dn.parameters(), 2e-3, betas=(0.5, 0.999))
    start = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (B,))
        real, labels = x[idx], y[idx]
        fake = G(torch.randn(B, 100), labels)
        out_r, out_f = Dn(real, labels), Dn(fake.detach(), labels)
        loss_d = F_.binary_cross_entropy_with_logits(out_r, torch.full_like(out_r, 0.9)) + \
            F_.binary_cross_entropy_with_logits(out_f, torch.zeros_like(out_f))
        od.zero_grad(set_to_none=True); loss_d.backward(); od.step()
        yg = torch.randint(0, 10, (B,))
        out = Dn(G(torch.randn(B, 100), yg), yg)
        loss_g = F_.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        og.zero_grad(set_to_none=True); loss_g.backward(); og.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "train_seconds": time.perf_counter() - start,
            "torch_threads": torch.get_num_threads()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=60, help="GAN steps per run (callable mode)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the three modes (medians are printed)")
    args = ap.parse_args()
    import ray
    import torch

    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    threads = torch.get_num_threads()
    print(f"sweep of {len(GRID)} runs of {args.steps} GAN steps on {os.cpu_count()} cores; serial runs use torch's "
          f"{threads} threads (serial-1t: 1), Ray runs 1 thread each", flush=True)
    print(f"load average before: {os.getloadavg()[0]:.1f} (the figures are wall-clock; other work on the machine slows "
          "every mode)", flush=True)
    seconds: dict[str, list[float]] = {m: [] for m in MODES}
    startup: dict[str, list[float]] = {m: [] for m in MODES}
    for r in range(args.repeat):  # modes alternate, so drift in the machine's load hits all alike
        for mode in MODES:
            if mode.startswith("ray"):
                t = time.perf_counter()
                ray.init(address="local", num_cpus=int(mode[4]), include_dashboard=False, logging_level="ERROR")
                startup[mode].append(time.perf_counter() - t)
            torch.set_num_threads(1 if mode == "serial-1t" else threads)
            t = time.perf_counter()
            table = sweep(train_steps, GRID, tmp / f"{mode}-{r}", {"steps": args.steps},
                          backend="ray" if mode.startswith("ray") else ("local" if mode == "local" else "serial"),
                          threads=1, progress=False)
            seconds[mode].append(time.perf_counter() - t)
            if mode.startswith("ray"):
                ray.shutdown()
            if "error" in table:
                raise SystemExit(f"{mode}: a run failed:\n{table.to_string()}")
            per_run = ", ".join(f"{s:.1f}" for s in table["run_seconds"])
            print(f"{mode:9s} {seconds[mode][-1]:6.1f} s for the sweep (runs: {per_run} s)"
                  + (f"; Ray start-up {startup[mode][-1]:.1f} s, not included" if startup[mode] else ""), flush=True)

    med = {m: statistics.median(v) for m, v in seconds.items()}
    up = statistics.median(startup["ray-2cpu"])
    print(f"medians over {args.repeat} round(s): " + ", ".join(f"{m} {v:.1f} s" for m, v in med.items())
          + f"; load average after: {os.getloadavg()[0]:.1f}")
    print(f"serial / Ray with 2 CPUs:                {med['serial'] / med['ray-2cpu']:.2f}x "
          f"({med['serial'] / (med['ray-2cpu'] + up):.2f}x counting Ray's start-up of {up:.1f} s)")
    print(f"serial with 1 thread / Ray with 2 CPUs:  {med['serial-1t'] / med['ray-2cpu']:.2f}x")
    print(f"serial / local worker processes:         {med['serial'] / med['local']:.2f}x")
    print(f"Ray with 2 CPUs, start-up counted / local: {(med['ray-2cpu'] + up) / med['local']:.2f}x")
    print(f"Ray 1 CPU / Ray 2 CPUs:                  {med['ray-1cpu'] / med['ray-2cpu']:.2f}x")


if __name__ == "__main__":
    main()
