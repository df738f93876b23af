"""Random numbers drawn on the CPU and sent to the training device: one way to draw them.

labkit draws a run's noise, augmentations and penalty weights on the CPU, from generators that a
checkpoint saves (the trainer's own, or torch's default one), so every device draws the same
numbers and a resumed run continues them. :func:`host_random` is that draw, sent on without
waiting for the device.

It also lets a training step replay as a CUDA graph (:mod:`labkit.train.graphs`), which can hold
no copy from the CPU: while the graph records, each draw becomes one of the graph's input tensors
(a slot), and before every replay a :class:`Tape` fills the slots with the draws the eager step
would have made, in the same order from the same generators.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

KINDS = ("rand", "randn", "randint")
_tape: "Tape | None" = None


def _draw(spec: tuple, generator: torch.Generator | None) -> torch.Tensor:
    kind, size, low, high = spec
    if kind == "randint":
        return torch.randint(low, high, size, generator=generator)
    return (torch.rand if kind == "rand" else torch.randn)(size, generator=generator)


def _send(spec: tuple, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype | None):
    return _draw(spec, generator).to(device=device, dtype=dtype, non_blocking=True)


def host_random(kind: str, size: tuple[int, ...], device: torch.device | str, *, generator: torch.Generator | None = None,
                low: int = 0, high: int | None = None, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``torch.rand``, ``torch.randn`` or ``torch.randint(low, high)`` of ``size``, drawn on the CPU
    from ``generator`` (None: torch's default one) and sent to ``device`` (as ``dtype``, if given)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if kind == "randint" and high is None:
        raise ValueError("a randint draw needs high (one past the largest value)")
    spec = (kind, tuple(int(s) for s in size), low, high)
    if _tape is not None:
        return _tape.draw(spec, generator, torch.device(device), dtype)
    return _send(spec, generator, device, dtype)


class Tape:
    """A step's draws, in order. While recording (an eager step) it draws as usual and notes each
    draw's kind, size, generator and device. :meth:`for_capture` makes a tape with a slot for each
    draw, allocated before the graph records (a tensor allocated while it records could share
    memory with an intermediate the graph writes first); while the graph records, that tape hands
    out the slots in order, checking that the step draws as it did when recorded, and
    :meth:`fill` puts fresh draws into them, from the same generators in the same order, before
    each replay."""

    def __init__(self):
        self.draws: list[tuple] = []  # (spec, generator, device) of each draw, in order
        self.slots: list[torch.Tensor] | None = None  # None while recording
        self.used = 0  # slots handed out while a graph records

    def for_capture(self) -> "Tape":
        """A tape holding a slot for each of these draws (the recording is left as it is)."""
        tape = Tape()
        tape.draws = list(self.draws)
        tape.slots = [torch.empty(spec[1], dtype=torch.long if spec[0] == "randint" else torch.float32, device=device)
                      for spec, _, device in self.draws]
        return tape

    def draw(self, spec: tuple, generator: torch.Generator | None, device: torch.device,
             dtype: torch.dtype | None) -> torch.Tensor:
        if self.slots is None:
            self.draws.append((spec, generator, device))
            return _send(spec, generator, device, dtype)
        i = self.used
        was, was_generator, was_device = self.draws[i] if i < len(self.draws) else (None, None, None)
        if was is None:
            differs = f"its eager step made only {len(self.draws)} draws"
        elif was != spec:
            differs = f"its eager step drew {was}"
        elif was_generator is not generator:
            differs = "its eager step drew it from another generator"
        elif was_device != device:
            differs = f"its eager step sent it to {was_device}, not {device}"
        else:
            differs = ""
        if differs:
            raise RuntimeError(f"draw {i + 1} of this step is {spec}, where {differs}: a step replayed as a CUDA graph "
                               f"must draw the same way every time (LABKIT_CUDA_GRAPHS=0 keeps it eager)")
        self.used += 1
        return self.slots[i] if dtype is None else self.slots[i].to(dtype)

    def complete(self) -> bool:
        """Whether the capture used every slot."""
        return self.slots is not None and self.used == len(self.slots)

    def fill(self) -> None:
        for (spec, generator, _), slot in zip(self.draws, self.slots or ()):
            slot.copy_(_draw(spec, generator), non_blocking=True)


@contextlib.contextmanager
def taping(tape: Tape) -> Iterator[Tape]:
    """Inside, :func:`host_random` records to (or draws from the slots of) ``tape``."""
    global _tape
    before, _tape = _tape, tape
    try:
        yield tape
    finally:
        _tape = before
