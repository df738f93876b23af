"""labkit's GAN training step against a plain PyTorch loop of the same model, in one process.

Both train the paper-004 class-conditional GAN with BCE and Adam on the same in-memory batches;
the plain loop is what one would write by hand (pytorch/examples' dcgan style). We report images
per second for each and their ratio (labkit / plain; 1.0 means no overhead). Runs alternate
(plain, labkit, plain, labkit, ...) so drift in the machine's speed hits both alike.

    python benchmarks/bench_gan_step.py                 # CPU, quick
    python benchmarks/bench_gan_step.py --F 1 --steps 50 --batch 64
On a CUDA machine a GPU section follows (with labkit's bfloat16 autocast, and without).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F_

os.environ.setdefault("LABKIT_PROGRESS", "off")

from labkit.losses import BCELoss  # noqa: E402
from labkit.models import MnistDiscriminator, MnistGenerator  # noqa: E402
from labkit.train import BatchSource, GANTrainer  # noqa: E402


def models(F, device):
    torch.manual_seed(0)
    return MnistGenerator(F=F, num_classes=10).to(device), MnistDiscriminator(F=F, num_classes=10).to(device)


def plain_loop(x, y, F, batch, steps, device):
    G, D = models(F, device)
    og = torch.optim.Adam(G.parameters(), 2e-3, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), 2e-3, betas=(0.5, 0.999))
    n = len(x)
    sync(device)
    start = time.perf_counter()
    for i in range(steps):
        idx = torch.randint(0, n, (batch,), device=device)
        real, labels = x[idx], y[idx]
        z = torch.randn(batch, 100, device=device)
        fake = G(z, labels)
        out_r, out_f = D(real, labels), D(fake.detach(), labels)
        loss_d = F_.binary_cross_entropy_with_logits(out_r, torch.full_like(out_r, 0.9)) + \
            F_.binary_cross_entropy_with_logits(out_f, torch.zeros_like(out_f))
        od.zero_grad(set_to_none=True)
        loss_d.backward()
        od.step()
        yg = torch.randint(0, 10, (batch,), device=device)
        out = D(G(torch.randn(batch, 100, device=device), yg), yg)
        loss_g = F_.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        og.zero_grad(set_to_none=True)
        loss_g.backward()
        og.step()
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def labkit_loop(x, y, F, batch, steps, device, amp):
    G, D = models(F, device)
    t = GANTrainer(G, D, num_classes=10, loss=BCELoss(0.9), lr_g=2e-3, lr_d=2e-3, device=device, amp=amp)
    data = BatchSource(x[: steps * batch], y[: steps * batch], batch_size=batch)
    sync(device)
    start = time.perf_counter()
    t.fit(data, 1)  # one epoch = ``steps`` steps, with labkit's bookkeeping and its snapshot
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def section(device, F, batch, steps, repeats, amp):
    n = steps * batch
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(n, 1, 28, 28, generator=g) * 2 - 1).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)
    plain_loop(x, y, F, batch, 3, device)  # warm-up
    labkit_loop(x[: 3 * batch], y[: 3 * batch], F, batch, 3, device, amp)
    p, l = [], []
    for _ in range(repeats):
        p.append(plain_loop(x, y, F, batch, steps, device))
        l.append(labkit_loop(x, y, F, batch, steps, device, amp))
    mp, ml = statistics.median(p), statistics.median(l)
    label = f"{device.type}{' bf16' if amp and device.type == 'cuda' else ''}"
    print(f"{label:9s} F={F} batch={batch} steps={steps} x{repeats}:  plain {mp:8.0f} img/s   labkit {ml:8.0f} img/s   "
          f"ratio labkit/plain {ml / mp:.3f}  (spread plain {min(p):.0f}-{max(p):.0f}, labkit {min(l):.0f}-{max(l):.0f})")
    return ml / mp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--F", type=float, default=0.25)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    section(torch.device("cpu"), args.F, args.batch, args.steps, args.repeats, amp=False)
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}")
        for F in (args.F, 1.0):
            section(torch.device("cuda"), F, 128, 200, args.repeats, amp=False)
            section(torch.device("cuda"), F, 128, 200, args.repeats, amp=True)


if __name__ == "__main__":
    main()
