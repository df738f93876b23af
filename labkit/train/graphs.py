"""A training step replayed as one CUDA graph.

At the course's sizes a GAN step is a few hundred small kernels, and on a GPU as fast as an H200
the step's time goes to launching them, not to the arithmetic: pytorch/examples' Radford DCGAN
loop at batch 64 takes about 9 ms a step there for well under 1 ms of convolutions
(``benchmarks/bench_dcgan_reference.py``). A CUDA graph records the step's kernels once and
launches them all with one call afterwards: PyTorch's "whole-network capture"
(``torch.cuda.graphs``), with the optimisers' updates inside the graph (Adam's ``capturable``).

What a captured step may do: GPU work on its input tensors and on the trainer's models and
optimisers, nothing else. No host syncs (``.item()``), no tensor made on the CPU and copied over,
no Python decision on a tensor's value. Its random numbers (the noise, DiffAugment's draws, the
gradient penalty's interpolation weights) come through :func:`labkit.draws.host_random`: the eager
warm-up steps record them on a :class:`labkit.draws.Tape`, the graph reads them from input slots,
and before each replay the tape fills the slots with fresh draws from the same generators in the
same order, so a replay uses the very numbers an eager step would. Python numbers are fixed at
capture: the learning rates, so a change of any of them (a scheduler's epoch step) captures again;
and the input shapes, so a batch of another size (an epoch's last, short batch) gets a graph of
its own.

Not captured (the step stays eager): augmentations that draw otherwise (``ClassicAugment``, a
function of one's own; ``graph_safe = True`` marks one that draws through ``host_random``), and
compiled models.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from labkit.draws import Tape, taping


def make_capturable(opt: torch.optim.Optimizer) -> None:
    """Let ``opt.step()`` run inside a CUDA graph: ``capturable`` on, and its step counters moved to
    the parameters' device (Adam keeps them on the CPU otherwise and reads them on the host)."""
    for group in opt.param_groups:
        if "capturable" in group:
            group["capturable"] = True
    for p, state in opt.state.items():
        step = state.get("step")
        if torch.is_tensor(step) and step.device != p.device:
            state["step"] = step.to(p.device)


class CudaGraphs:
    """How :class:`CapturedStep` runs on a CUDA GPU: eager warm-up steps on a side stream, as
    PyTorch's whole-network capture asks, and each graph recorded with ``torch.cuda.graph``."""

    def __init__(self):
        self.side = None

    def eager(self, fn: Callable[[], dict]) -> dict:
        self.side = self.side or torch.cuda.Stream()
        self.side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.side):
            out = fn()
        torch.cuda.synchronize()  # a few warm-up steps: the simplest safe hand-over between streams
        return out

    def capture(self, body: Callable[[], torch.Tensor], optimizers) -> Callable[[], torch.Tensor]:
        """Record ``body`` (which runs the step and returns its outputs as one tensor) without
        running it; return the replay, which runs it and returns that same tensor."""
        torch.cuda.synchronize()
        for opt in optimizers:
            make_capturable(opt)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = body()

        def replay() -> torch.Tensor:
            graph.replay()
            return out
        return replay


class Rerun:
    """A stand-in for :class:`CudaGraphs` that runs anywhere, so the CPU tests can exercise all
    of :class:`CapturedStep` but the recording: "capturing" records nothing, and each "replay" runs
    the step again on the graph's input tensors and draw slots."""

    def eager(self, fn):
        return fn()

    def capture(self, body, optimizers):
        return body


class CapturedStep:
    """``step(*inputs)`` (a dict of scalar tensors) run as a CUDA graph after ``warmup`` eager calls.

    Each call copies ``inputs`` into the graph's own input tensors, fills its draw slots
    (:class:`labkit.draws.Tape`) and replays it; the returned values are copies (the next replay
    overwrites the graph's outputs). The eager warm-up calls set up what the step creates lazily
    (the optimisers' moments, cuDNN's plans) and record the step's draws. ``backend``: how steps
    run and graphs are recorded (:class:`CudaGraphs`; :class:`Rerun` in tests)."""

    def __init__(self, step: Callable[..., dict[str, torch.Tensor]], optimizers: Iterable[torch.optim.Optimizer],
                 warmup: int = 3, backend=None):
        if warmup < 1:
            raise ValueError(f"warmup must be >= 1 (the optimisers' state is made in an eager step); got {warmup}")
        self.step, self.optimizers, self.warmup = step, list(optimizers), warmup
        self.backend = backend or CudaGraphs()
        self.graphs: dict[tuple, tuple] = {}  # input shapes -> (replay, inputs, tape, names)
        self.eager_calls: dict[tuple, int] = {}
        self.tapes: dict[tuple, Tape] = {}  # input shapes -> the draws of the last eager step
        self.lrs: tuple[float, ...] | None = None
        self.captures = 0  # graphs recorded so far (for tests and the benchmark)

    def reset(self) -> None:
        """Forget every graph (after the models' or optimisers' tensors were replaced, e.g. by
        loading a checkpoint): the next call warms up and captures again."""
        self.graphs.clear()
        self.eager_calls.clear()
        self.tapes.clear()
        self.lrs = None

    def __call__(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        lrs = tuple(float(g["lr"]) for o in self.optimizers for g in o.param_groups)
        if lrs != self.lrs:  # the graphs hold the old rates
            self.graphs.clear()
            self.lrs = lrs
        key = tuple((tuple(x.shape), x.dtype, x.device) for x in inputs)
        if key not in self.graphs:
            if self.eager_calls.get(key, 0) < self.warmup:
                self.eager_calls[key] = self.eager_calls.get(key, 0) + 1
                return self._eager(key, inputs)
            self.graphs[key] = self._capture(key, inputs)
        replay, static_in, tape, names = self.graphs[key]
        tape.fill()  # this step's random numbers, drawn as the eager step draws them
        for s, x in zip(static_in, inputs):
            s.copy_(x, non_blocking=True)
        return dict(zip(names, replay().clone().unbind()))

    def _eager(self, key, inputs) -> dict[str, torch.Tensor]:
        with taping(Tape()) as tape:
            out = self.backend.eager(lambda: self.step(*inputs))
        self.tapes[key] = tape
        return out

    def _capture(self, key, inputs) -> tuple:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)  # the gradients are made inside the graph's memory
        static_in = [x.clone() for x in inputs]  # inputs and draws get their memory before the graph records
        tape = self.tapes[key].for_capture()
        names: list[str] = []

        def body() -> torch.Tensor:
            tape.used = 0
            with taping(tape):
                out = self.step(*static_in)
            bad = [k for k, v in out.items() if not (torch.is_tensor(v) and v.numel() == 1)]
            if bad:
                raise TypeError(f"a captured step must return one-element tensors; {bad} are not")
            if not tape.complete():
                raise RuntimeError(f"the captured step drew {tape.used} random tensors, its eager step "
                                   f"{len(tape.draws)}: it must draw the same way every time")
            names[:] = list(out)
            return torch.stack([v.detach().float().reshape(()) for v in out.values()])

        replay = self.backend.capture(body, self.optimizers)
        self.captures += 1
        return replay, static_in, tape, names
