"""labkit's Radford DCGAN training step against pytorch/examples' ``dcgan/main.py`` loop, in one run.

The reference is a faithful copy of that loop (its networks, ``weights_init``, sigmoid + ``BCELoss``,
the real and fake halves of the discriminator loss backpropagated one after the other, the
generator step on the same fakes, the ``.item()`` statistics it prints each step), in float32 as
it ships. labkit trains the same networks (``labkit.models.radford``, F=1: 3,576,704 + 2,765,568
parameters, the reference's counts) with ``GANTrainer`` through ``Trainer.fit`` on the same
in-memory batches: bookkeeping, history and the end-of-epoch snapshot included.

What labkit's step does differently, each switchable here so its share can be seen:
one generator forward per step (the reference does that too), channels-last convolutions
(``labkit.runtime.channels_last``), and bfloat16 autocast on CPUs with native bf16
(``labkit.runtime.cpu_bf16``: AVX512-BF16 or AMX). Always: D is frozen while it scores the fakes
for the generator step (``labkit.train.core.frozen``), so that backward pass computes no gradient
for D's weights (146 GFLOP a step against the reference's 159).

Measured on a 2-core AMD EPYC with AVX512-BF16, 12 steps, median of 3: reference 66.7 img/s,
labkit 82.8 img/s in float32 (1.24x) and 129.4 img/s as it trains, in bf16 (1.94x); before D
was frozen, 1.12x and 1.71x in the same kind of run.

On a GPU labkit replays the whole step (both networks' forwards, backwards and Adam updates) as
one CUDA graph (``labkit.train.graphs``), and trains in float32 with TF32 convolutions
(``labkit.runtime.cuda_bf16`` says why not bf16). Each labkit variant is one trainer, warmed up by
a short first epoch (where its graph is captured) and timed on later epochs. Measured on one
NVIDIA H200 (torch 2.11, 16-core Xeon host), 200 steps, median of 3:

    batch   reference loop   labkit eager   labkit, CUDA graph   CUDA graph + bf16 autocast
      64      5,495 img/s       1.04x        3.94x (49 TFLOP/s)      4.49x (56 TFLOP/s)
     256     15,943 img/s       1.17x        2.32x (84 TFLOP/s)      3.46x (125 TFLOP/s)

A second H200, later, at batch 64: reference 6,402 img/s; labkit eager 0.99x, CUDA graph 3.40x,
graph + bf16 3.91x.

A step this small is bound by kernel launches there: the reference loop at batch 64 spends
11.6 ms a step on 159 GFLOP, about 14 TFLOP/s of the card's 51 TFLOP/s fp32 matmul, with five
host syncs (its ``.item()`` statistics) and hundreds of small kernels (about 320 were counted in a
step of chapter 004's MNIST DCGAN). ``--compile`` adds
``torch.compile`` without a graph; it failed in inductor on the channels-last convolution
backward with torch 2.11 on that machine.

Printed: images/s of each, the ratio labkit / reference (runs alternate, the median of
``--repeats`` is taken, so drift in the machine's speed hits both alike), the GFLOP one step
does (``torch.utils.flop_counter``) and the GFLOP/s each achieves beside the machine's own
float32 and bf16 matmul rates (2048³; 8192³ on a GPU), for information. On a CUDA machine a GPU section follows.

    python benchmarks/bench_dcgan_reference.py                  # CPU, about 2 minutes on 2 cores
    python benchmarks/bench_dcgan_reference.py --steps 40 --repeats 5
    python benchmarks/bench_dcgan_reference.py --no-cpu --compile       # on a GPU machine
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from unittest import mock

import torch
from torch import nn

os.environ.setdefault("LABKIT_PROGRESS", "off")

from labkit.losses import BCELoss  # noqa: E402
from labkit.models.radford import RadfordDiscriminator, RadfordGenerator  # noqa: E402
from labkit.runtime import cpu_bf16  # noqa: E402
from labkit.train import BatchSource, GANTrainer  # noqa: E402

nz, ngf, ndf, nc = 100, 64, 64, 3


# --- pytorch/examples dcgan/main.py, as it is written there ------------------------------------
def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def reference_step(netG, netD, optimizerG, optimizerD, criterion, data, device):
    ############################
    # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
    ###########################
    # train with real
    netD.zero_grad()
    real_cpu = data[0].to(device)
    batch_size = real_cpu.size(0)
    label = torch.full((batch_size,), 1, dtype=real_cpu.dtype, device=device)
    output = netD(real_cpu)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    # train with fake
    noise = torch.randn(batch_size, nz, 1, 1, device=device)
    fake = netG(noise)
    label.fill_(0)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    ############################
    # (2) Update G network: maximize log(D(G(z)))
    ###########################
    netG.zero_grad()
    label.fill_(1)  # fake labels are real for generator cost
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    return 'Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f' % (errD.item(), errG.item(), D_x, D_G_z1, D_G_z2)
# ------------------------------------------------------------------------------------------------


def reference_models(device):
    torch.manual_seed(0)
    netG, netD = Generator().to(device), Discriminator().to(device)
    netG.apply(weights_init)
    netD.apply(weights_init)
    return netG, netD


def reference_run(x, batch, steps, device):
    netG, netD = reference_models(device)
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    criterion = nn.BCELoss()
    sync(device)
    start = time.perf_counter()
    for i in range(steps):
        reference_step(netG, netD, optimizerG, optimizerD, criterion, (x[i * batch:(i + 1) * batch],), device)
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def labkit_trainer(device, amp, compile=False, **kw):
    torch.manual_seed(0)
    kw.setdefault("loss", BCELoss())
    return GANTrainer(RadfordGenerator(), RadfordDiscriminator(), device=device, amp=amp, compile=compile, **kw)


def labkit_run(x, batch, steps, device, amp, trainer=None):
    """One more epoch of ``steps`` steps, on a new trainer or on ``trainer`` (a compiled one is
    compiled once and timed on later epochs)."""
    t = trainer or labkit_trainer(device, amp)
    data = BatchSource(x[: steps * batch], torch.zeros(steps * batch, dtype=torch.long), batch_size=batch,
                       shuffle=False).to(device)
    sync(device)
    start = time.perf_counter()
    t.fit(data, t.epoch + 1)  # one epoch = ``steps`` steps, with labkit's bookkeeping and its snapshot
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def step_gflop(batch, device) -> float:
    """GFLOP of one reference step (forwards and backwards), counted by torch.utils.flop_counter."""
    from torch.utils.flop_counter import FlopCounterMode

    netG, netD = reference_models(device)
    opts = [torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (netG, netD)]
    x = torch.randn(batch, nc, 64, 64, device=device)
    with FlopCounterMode(display=False) as counter:
        reference_step(netG, netD, opts[0], opts[1], nn.BCELoss(), (x,), device)
    return counter.get_total_flops() / 1e9


def labkit_step_gflop(batch, device) -> float:
    """GFLOP of one labkit step (``GANTrainer.train_step``), counted the same way. Less than the
    reference's: its generator step computes no gradient for D's weights (``frozen``), which the
    reference computes in ``errG.backward()`` and throws away at the next ``netD.zero_grad()``."""
    from torch.utils.flop_counter import FlopCounterMode

    t = labkit_trainer(device, amp=False)
    x, y = torch.randn(batch, nc, 64, 64, device=device), torch.zeros(batch, dtype=torch.long, device=device)
    with FlopCounterMode(display=False) as counter:
        t.train_step((x, y))
    return counter.get_total_flops() / 1e9


def matmul_gflops(device, dtype, n=2048, repeats=5) -> float:
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def env(**values):
    """Environment variables set for the block (labkit reads LABKIT_CUDA_BF16 at each autocast and
    LABKIT_CUDA_GRAPHS when a trainer is made)."""
    return mock.patch.dict(os.environ, {k: str(v) for k, v in values.items()})


def gpu_variants(compile: bool) -> dict[str, tuple[dict, dict]]:
    """The GPU rows after the reference: name -> (environment, trainer arguments)."""
    rows = {"labkit eager, fp32/TF32 (LABKIT_CUDA_GRAPHS=0)": ({"LABKIT_CUDA_GRAPHS": 0}, {}),
            "labkit as it trains: fp32/TF32, CUDA graph": ({}, {}),
            "labkit bf16 autocast, CUDA graph": ({"LABKIT_CUDA_BF16": 1}, {})}
    if compile:
        rows["labkit fp32/TF32 + torch.compile (eager)"] = ({}, {"compile": True})
    return rows


def section(device, batch, steps, repeats, compile=False, augmented=False) -> float:
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(steps * batch, nc, 64, 64, generator=g) * 2 - 1).to(device)
    reference_run(x, batch, 2, device)  # warm-up (oneDNN / cuDNN choose their kernels)
    gflop, lgflop = step_gflop(batch, device), labkit_step_gflop(batch, device)
    print(f"\n{device.type}: Radford DCGAN 64x64x3, F=1, batch {batch}, {steps} steps, median of {repeats}")
    if device.type == "cuda":
        return gpu_section(device, x, batch, steps, repeats, gflop, lgflop, compile, augmented)
    labkit_run(x, batch, 2, device, amp=True)
    labkit_run(x, batch, 2, device, amp=False)
    if compile:  # one compiled trainer: its first epoch compiles (timed apart), later epochs are timed
        start = time.perf_counter()
        try:
            compiled = labkit_trainer(device, amp=True, compile=True)
            labkit_run(x, batch, 2, device, amp=True, trainer=compiled)
        except Exception as err:  # a compiler failure is a result too: say it and time the rest
            print(f"  torch.compile failed on {device.type}: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
            compile = False
        compile_s = time.perf_counter() - start
    ref, lab, lab32, labc = [], [], [], []
    for _ in range(repeats):
        ref.append(reference_run(x, batch, steps, device))
        lab.append(labkit_run(x, batch, steps, device, amp=True))
        lab32.append(labkit_run(x, batch, steps, device, amp=False))
        if compile:
            labc.append(labkit_run(x, batch, steps, device, amp=True, trainer=compiled))
    r, l, l32 = statistics.median(ref), statistics.median(lab), statistics.median(lab32)
    print(f"  reference loop (pytorch/examples, fp32)   {r:7.1f} img/s   {gflop * r / batch:6.0f} GFLOP/s   "
          f"(spread {min(ref):.1f}-{max(ref):.1f})")
    print(f"  labkit, channels-last, fp32               {l32:7.1f} img/s   {lgflop * l32 / batch:6.0f} GFLOP/s   "
          f"ratio {l32 / r:.2f}")
    kind = " (bf16 autocast)" if cpu_bf16() else " (no native bf16: fp32)"
    print(f"  labkit as it trains{kind:22s}{l:7.1f} img/s   "
          f"{lgflop * l / batch:6.0f} GFLOP/s   ratio {l / r:.2f}   (spread {min(lab):.1f}-{max(lab):.1f})")
    if compile:
        lc = statistics.median(labc)
        print(f"  labkit as it trains + torch.compile       {lc:7.1f} img/s   {lgflop * lc / batch:6.0f} GFLOP/s   "
              f"ratio {lc / r:.2f}   (compiling took {compile_s:.0f} s once)")
    footer(device, gflop, lgflop)
    return l / r


def gpu_section(device, x, batch, steps, repeats, gflop, lgflop, compile, augmented=False) -> float:
    """Each labkit variant is one trainer, warmed up by a short first epoch (its CUDA graph is
    captured there, or torch.compile compiles: timed apart, once), then timed on later epochs of
    ``steps`` steps, as a long run trains. Runs alternate with the reference loop's."""
    trainers, setup, variants = {}, {}, gpu_variants(compile)
    for name, (variables, kw) in variants.items():
        start = time.perf_counter()
        try:
            with env(**variables):
                trainers[name] = t = labkit_trainer(device, amp=True, **kw)
                labkit_run(x, batch, min(8, steps), device, amp=True, trainer=t)
        except Exception as err:  # a compiler failure is a result too: say it and time the rest
            print(f"  {name} failed: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
            trainers.pop(name, None)
        setup[name] = time.perf_counter() - start
    ref, lab = [], {name: [] for name in trainers}
    for _ in range(repeats):
        ref.append(reference_run(x, batch, steps, device))
        for name, t in trainers.items():
            with env(**variants[name][0]):
                lab[name].append(labkit_run(x, batch, steps, device, amp=True, trainer=t))
    r = statistics.median(ref)
    print(f"  reference loop (pytorch/examples, fp32/TF32)      {r:8.0f} img/s  {gflop * r / batch / 1e3:6.1f} TFLOP/s  "
          f"(spread {min(ref):.0f}-{max(ref):.0f})")
    for name, values in lab.items():
        v = statistics.median(values)
        captured = trainers[name].captured
        note = f"; {captured.captures} graph(s)" if captured is not None else ""
        print(f"  {name:49s}{v:8.0f} img/s  {lgflop * v / batch / 1e3:6.1f} TFLOP/s  ratio {v / r:.2f}  "
              f"(spread {min(values):.0f}-{max(values):.0f}; first epoch of 8 steps {setup[name]:.1f} s{note})")
    footer(device, gflop, lgflop)
    if augmented:
        gpu_augmented(device, x, batch, steps, repeats)
    main_row = lab.get("labkit as it trains: fp32/TF32, CUDA graph")
    return statistics.median(main_row) / r if main_row else float("nan")


def gpu_augmented(device, x, batch, steps, repeats):
    """The steps that draw inside (DiffAugment's per-image draws, WGAN-GP's penalty weights), eager
    and replayed as a CUDA graph with their draws taped (labkit.draws, ``LABKIT_CUDA_GRAPHS=all``):
    images/s of each, the same model and batches. The reference loop has neither, so the ratio is
    graph / eager. H200, batch 64: DiffAugment 4,463 against 15,072 img/s (3.38x), WGAN-GP with 5
    critic steps 1,026 against 2,058 img/s (2.01x)."""
    from labkit.augment import DiffAugment
    from labkit.losses import WGANGPLoss

    kinds = {"DiffAugment (color,translation,cutout)": lambda: {"augment": DiffAugment(generator=torch.Generator().manual_seed(0))},
             "WGAN-GP, 5 critic steps": lambda: {"loss": WGANGPLoss(), "d_steps": 5}}
    for kind, kw in kinds.items():
        rates = {}
        for graphs in ("0", "all"):
            with env(LABKIT_CUDA_GRAPHS=graphs):
                t = labkit_trainer(device, amp=True, **kw())
                labkit_run(x, batch, min(8, steps), device, amp=True, trainer=t)  # warm-up, capture
                rates[graphs] = statistics.median(labkit_run(x, batch, steps, device, amp=True, trainer=t)
                                                  for _ in range(repeats))
        print(f"  labkit + {kind:38s} eager {rates['0']:7.0f} img/s, CUDA graph {rates['all']:7.0f} img/s: "
              f"{rates['all'] / rates['0']:.2f}x")


def footer(device, gflop, lgflop):
    n = 8192 if device.type == "cuda" else 2048  # a GPU needs a larger product to reach its rate
    mm32, mm16 = matmul_gflops(device, torch.float32, n), matmul_gflops(device, torch.bfloat16, n)
    print(f"  one step: the reference {gflop:.0f} GFLOP, labkit {lgflop:.0f} GFLOP (no gradient for D's weights in the "
          f"generator step); this machine's {n}^3 matmul: fp32 {mm32:.0f} GFLOP/s, bf16 {mm16:.0f} GFLOP/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gpu-steps", type=int, default=200)
    ap.add_argument("--gpu-batch", type=int, nargs="+", default=[64, 256], help="GPU batch sizes (default 64 256)")
    ap.add_argument("--compile", action="store_true", help="also time labkit's step with torch.compile (GPU: first batch size)")
    ap.add_argument("--no-cpu", action="store_true", help="skip the CPU section (on a GPU machine)")
    args = ap.parse_args()
    cpu = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("model name")), "?")
    print(f"torch {torch.__version__}; CPU {model}, {torch.get_num_threads()} threads, "
          f"ISA {torch.backends.cpu.get_cpu_capability()}, native bf16: {cpu_bf16()}")
    if not args.no_cpu:
        section(torch.device("cpu"), args.batch, args.steps, args.repeats, compile=args.compile)
    if torch.cuda.is_available():
        print(f"\nGPU: {torch.cuda.get_device_name()}")
        for i, batch in enumerate(args.gpu_batch):
            section(torch.device("cuda"), batch, args.gpu_steps, args.repeats, compile=args.compile and i == 0,
                    augmented=i == 0)


if __name__ == "__main__":
    main()
