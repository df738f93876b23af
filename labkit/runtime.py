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


def autocast(device: torch.device, enabled: bool = True):
    """Mixed precision on CUDA (bfloat16, no loss scaling needed); a no-op elsewhere."""
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def describe(device: torch.device) -> str:
    """One line naming the device, for the top of a chapter."""
    if device.type == "cuda":
        return f"device: cuda ({torch.cuda.get_device_name(device)}), mixed precision bf16"
    if device.type == "mps":
        return "device: mps (Apple GPU)"
    return f"device: cpu ({torch.get_num_threads()} threads)"
