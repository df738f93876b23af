"""Device choice, seeding and mixed precision, in one place."""
from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """Return the device to train on.

    ``prefer`` may be ``"cuda"``, ``"mps"``, ``"cpu"`` or ``None``/``"auto"`` (the best
    one available, in that order). Asking for a device that is not there is an error,
    not a silent fallback.
    """
    if prefer in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if prefer not in ("cuda", "mps", "cpu"):
        raise ValueError(f"device must be one of 'auto', 'cuda', 'mps', 'cpu'; got {prefer!r}")
    if prefer == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was asked for, but torch sees no CUDA GPU here")
    if prefer == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("device='mps' was asked for, but this machine has no Apple MPS backend")
    return torch.device(prefer)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU ``torch.Generator`` seeded the same way.

    labkit draws data order and noise from that generator, so a run is repeatable and
    its state can be saved in a checkpoint.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    return torch.Generator().manual_seed(seed)


def _switch(var: str, unset: str, more: dict[str, str] | None = None) -> str:
    """The setting in ``$var``: "on" (``1``, ``on``, ``true``), "off" (``0``, ``off``, ``false``),
    one of ``more``'s words (its value), or "" when unset; anything else is a clear error that says
    what ``unset`` means."""
    modes = {"1": "on", "on": "on", "true": "on", "0": "off", "off": "off", "false": "off", "": "", **(more or {})}
    value = os.environ.get(var, "").strip().lower()
    if value not in modes:
        choices = ["0", "1", *(more or {})]
        raise ValueError(f"{var} must be {', '.join(choices[:-1])} or {choices[-1]} (unset: {unset}); got {value!r}")
    return modes[value]


def cpu_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), where bf16 autocast makes
    convolutions 1.3-1.9x faster (benchmarks/bench_dcgan_reference.py). Elsewhere bf16 is emulated
    and slower than float32. ``LABKIT_CPU_BF16=0`` turns it off, ``=1`` forces it on."""
    forced = _switch("LABKIT_CPU_BF16", "use bf16 where the CPU has it")
    if forced:
        return forced == "on"
    cpu = getattr(torch, "cpu", None)
    try:
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except AttributeError:  # an older torch without these probes: stay in float32
        return False


def cuda_bf16() -> bool:
    """Whether to train in bfloat16 autocast on a CUDA GPU. Off unless ``LABKIT_CUDA_BF16=1``: on an
    H200, chapter 004's class-conditional GAN at the paper's scale (F=1, 25 epochs, full MNIST) drew
    the asked-for digit 94.7% of the time in bf16 against 97.7% in float32 (mean of the last three
    epochs; the paper reports 97.6%; benchmarks/bench_mnist_ccgan.py), although bf16 is faster
    there: the Radford DCGAN step, replayed as a CUDA graph, ran at 4.49x and 3.46x the
    pytorch/examples loop in bf16 against 3.94x and 2.32x in float32 with TF32 convolutions, at
    batch 64 and 256 (benchmarks/bench_dcgan_reference.py)."""
    return _switch("LABKIT_CUDA_BF16", "float32 with TF32 convolutions") == "on"


def cuda_graphs() -> str:
    """Which GAN steps on a CUDA GPU replay as one CUDA graph (:mod:`labkit.train.graphs`), from
    ``LABKIT_CUDA_GRAPHS``: ``"on"`` (the default, or ``1``) those whose only random numbers are the
    noise; ``"all"`` also those that draw inside, DiffAugment's and the gradient penalty's draws
    taped (:mod:`labkit.draws`; 3.4x and 2.0x their eager step on an H200, opt-in until
    tests/test_graphs.py has confirmed on a GPU that they train to the eager step's weights);
    ``"off"`` (``0``) none. Steps this small are bound by kernel launches there."""
    return _switch("LABKIT_CUDA_GRAPHS", "1", more={"all": "all"}) or "on"


def autocast(device: torch.device, enabled: bool = True):
    """Mixed precision where it measures faster: bfloat16 (no loss scaling needed) on a CPU that
    computes bf16 natively (:func:`cpu_bf16`), and on CUDA only when asked (:func:`cuda_bf16`);
    a no-op elsewhere. Losses are taken in float32 by the trainers."""
    if enabled and device.type == "cuda" and cuda_bf16():
        # no cache of cast weights while a CUDA graph records: it would outlive the graph's memory
        capturing = torch.cuda.is_available() and torch.cuda.is_current_stream_capturing()
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16, cache_enabled=not capturing)
    if enabled and device.type == "cpu" and cpu_bf16():
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def inference_batch(device: torch.device, cpu: int = 128, other: int = 1000) -> int:
    """How many images a classifier scores (or a CycleGAN translates) at once outside training:
    ``cpu`` on a CPU, where a batch's activations should stay in the cores' caches, ``other`` on a
    GPU, where larger batches fill it. Measured on a 2-core AMD EPYC (float32, channels-last, 2 threads), 2,000
    images through paper 000's CNN (F=0.25) took 1.56 s in batches of 1,000 and 0.71 s in batches
    of 128 (64: 0.70 s); the Simple FER classifier 1.28 s and 0.59 s; LeNet 0.66 s and 0.30 s."""
    return cpu if device.type == "cpu" else other


def channels_last(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """A model with convolutions in channels-last memory order on CPU (oneDNN) and CUDA, where
    it measures faster for labkit's networks; others unchanged. Inputs need no conversion: a
    convolution with channels-last weights gives channels-last outputs."""
    if device.type in ("cpu", "cuda") and any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in model.modules()):
        return model.to(memory_format=torch.channels_last)
    return model


def describe(device: torch.device) -> str:
    """One line naming the device, for the top of a chapter."""
    if device.type == "cuda":
        precision = "mixed precision bf16" if cuda_bf16() else "float32, TF32 convolutions"
        graphs = ", GAN steps replayed as CUDA graphs" if cuda_graphs() != "off" else ""
        return f"device: cuda ({torch.cuda.get_device_name(device)}), {precision}{graphs}"
    if device.type == "mps":
        return "device: mps (Apple GPU)"
    precision = ", mixed precision bf16 (the CPU has native bf16)" if cpu_bf16() else ""
    n = torch.get_num_threads()
    return f"device: cpu ({n} thread{'s' if n > 1 else ''}){precision}"
