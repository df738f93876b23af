"""The training core every labkit trainer shares.

A trainer subclasses :class:`Trainer` and writes one method, ``train_step(batch)``, which
updates its models and returns a dict of scalar tensors (losses, accuracies). The core does
the rest:

- the epoch loop over in-memory batches (:class:`BatchSource`) with a seeded data order;
- the history: every step's values (``trainer.steps``) and per-epoch means plus any
  per-epoch metrics (``trainer.history``; a metric function returns a number, or a dict of
  named numbers when one pass yields several);
- a snapshot each epoch, or every ``snapshot_every`` epochs (for GANs: a grid of the fixed
  noise), kept for animations;
- progress: a ``tqdm.auto`` bar, or lines of text when ``LABKIT_PROGRESS=text`` (headless
  builds: one per epoch, about ten for a long run);
- a checkpoint after every epoch, written atomically and loaded with ``weights_only=True``,
  holding everything needed to continue to bit-identical weights on the CPU (models,
  optimisers, history, random states);
- learning-rate schedulers (``trainer.schedulers``), stepped once per epoch and saved;
- a clear stop when a loss becomes NaN or infinite, or the run diverges (a loss beyond
  ``loss_bound`` or a weight beyond ``weight_bound``), keeping the last good checkpoint.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn

from labkit import console
from labkit.runtime import autocast, channels_last, pick_device

CHECKPOINT = "checkpoint.pt"


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; training stopped before saving that epoch."""


class DivergenceError(NonFiniteLossError):
    """A loss or a weight grew beyond its bound: the run diverged; training stopped before
    saving that epoch."""


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read, or one written by other settings."""


def runs_root(root: str | Path | None = None) -> Path:
    """Where run folders go: ``root`` when given, else ``$LABKIT_RUNS``, else ``runs``."""
    return Path(root) if root is not None else Path(os.environ.get("LABKIT_RUNS", "runs"))


def run_dir(root: str | Path | None, name: str, config: dict[str, Any]) -> Path:
    """A run folder named after its configuration: ``<root>/name-<hash of config>``.

    Different settings never share (or overwrite) a checkpoint; rerunning the same settings
    finds its checkpoint and continues from it (leave the number of epochs out of ``config``,
    so that asking for more epochs continues the run). ``root=None``: see :func:`runs_root`.
    """
    digest = hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return runs_root(root) / f"{name}-{digest}"


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``: a crash
    mid-write never leaves a half-written file where a good one was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class BatchSource:
    """Batches from tensors already in memory (moved to the device once).

    ``epoch_size``: an epoch draws this many items, a new random choice each epoch (None: every
    item). A quick run on a large dataset thus costs per epoch what it costs on a small one, and
    still sees all of the data over its epochs rather than a fixed subset."""

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = True, drop_last: bool = True,
                 epoch_size: int | None = None):
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError("BatchSource needs one or more tensors of equal length")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        if drop_last and len(tensors[0]) < batch_size:
            raise ValueError(f"batch_size {batch_size} is larger than the dataset ({len(tensors[0])} items)")
        if epoch_size is not None and not (batch_size <= epoch_size):
            raise ValueError(f"epoch_size must be at least the batch size ({batch_size}); got {epoch_size}")
        if epoch_size is not None and not shuffle:
            raise ValueError("epoch_size needs shuffle=True (each epoch draws a new random part of the data)")
        self.tensors, self.batch_size, self.shuffle, self.drop_last = tensors, batch_size, shuffle, drop_last
        self.epoch_size = None if epoch_size is None or epoch_size >= len(tensors[0]) else epoch_size

    def to(self, device: torch.device) -> "BatchSource":
        self.tensors = tuple(t.to(device) for t in self.tensors)
        return self

    def __len__(self) -> int:
        n = self.epoch_size or len(self.tensors[0])
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def epoch(self, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, ...]]:
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        order = order[: self.epoch_size or n].to(self.tensors[0].device, non_blocking=True)
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            yield tuple(t[idx] for t in self.tensors)


@contextlib.contextmanager
def frozen(*nets: nn.Module) -> Iterator[None]:
    """Inside, the networks' weights ask for no gradient, so a backward pass through what they
    computed here (a discriminator scoring the generator's fakes) gives the gradient for the
    input and skips the one for their weights, which no optimiser would use. Autograd records
    this when the forward runs, so the backward may come after the block. junyanz's CycleGAN does
    the same (``set_requires_grad(netD, False)`` before the generators' step)."""
    params = [p for net in nets for p in net.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def linear_decay(epoch: int, total: int, decay_from: float) -> float:
    """A learning-rate factor for epoch ``epoch`` (0-based) of ``total``: 1 until ``decay_from``
    of the epochs, then linearly down to 0 after the last (CycleGAN's schedule)."""
    start = int(decay_from * total)
    if epoch < start:
        return 1.0
    return max(0.0, 1.0 - (epoch - start) / max(1, total - start))


def _progress_mode() -> str:
    mode = os.environ.get("LABKIT_PROGRESS", "bar")
    if mode not in ("bar", "text", "off"):
        raise ValueError(f"LABKIT_PROGRESS must be 'bar', 'text' or 'off'; got {mode!r}")
    return mode


def run_clock(device: torch.device) -> Callable[[], float]:
    """The clock that times a run's epochs (``Trainer.seconds``): the time the run itself needs. In a
    one-thread process on the CPU, its CPU time: worker processes of :mod:`labkit.parallel` share
    the cores, and a run's wall-clock time would count the others' turns, so runs trained side by
    side could not be compared. Elsewhere (several threads, a GPU) the wall clock."""
    if device.type == "cpu" and torch.get_num_threads() == 1:
        return time.process_time
    return time.perf_counter


def _portable(opt_state: dict[str, Any]) -> dict[str, Any]:
    """An optimiser's state dict that loads on any device: ``capturable`` (set while a step replays as
    a CUDA graph, :mod:`labkit.train.graphs`) saved as off, which a CPU run needs; a GPU run turns
    it on again when it captures."""
    for group in opt_state["param_groups"]:
        if group.get("capturable"):
            group["capturable"] = False
    return opt_state


class Trainer:
    """Subclass and implement ``train_step``; optionally ``snapshot`` and ``extra_state``.

    ``seed`` governs data order, noise and in-model randomness (dropout) from here on. The
    models' initial weights come from whatever seeded torch when they were built: seed first
    (``labkit.runtime.seed_everything``), then build them, as ``labkit.experiments`` does.
    """

    def __init__(
        self,
        models: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
        *,
        seed: int = 0,
        device: torch.device | str | None = None,
        checkpoint_dir: str | Path | None = None,
        config: dict[str, Any] | None = None,
        amp: bool = True,
        name: str = "train",
        snapshot_every: int = 1,
        loss_bound: float = 1e6,
        weight_bound: float = 1e6,
        compile: bool = False,
    ):
        if snapshot_every < 1:
            raise ValueError(f"snapshot_every must be >= 1; got {snapshot_every}")
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        # channels-last convolutions measure faster with oneDNN and cuDNN (labkit.runtime.channels_last)
        self.models = {k: channels_last(m.to(self.device), self.device) for k, m in models.items()}
        self.optimizers = optimizers
        if compile:  # torch.compile each trained network in place (its weights' names stay the same).
            # Measured: on 2 CPU cores the CycleGAN step ran 1.3x faster after about 2 minutes of
            # compiling, more than a quick chapter gains back; on an H200 with torch 2.11 inductor
            # failed on the channels-last convolution backward (bench_dcgan_reference.py --compile).
            # No double backward, so not for a gradient penalty (WGAN-GP).
            for m in self.models.values():
                if any(p.requires_grad for p in m.parameters()):  # not a moving average's copy
                    m.compile()
        self.compiled = compile
        self.captured = None  # a trainer whose step replays as a CUDA graph sets a labkit.train.graphs.CapturedStep
        self.schedulers: dict[str, Any] = {}
        self.gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)  # dropout and other in-model randomness
        self.amp = amp
        self.name = name
        self.config = dict(config or {})
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.steps: dict[str, list[float]] = {}
        self.snapshots: list[torch.Tensor] = []
        self.snapshot_epochs: list[int] = []
        self.snapshot_every = snapshot_every
        self.seconds = 0.0
        self.resumed_from: int | None = None
        self.loss_bound, self.weight_bound = loss_bound, weight_bound
        self.hidden_in_log: tuple[str, ...] = ()  # prefixes of step values the text log leaves out

    # --- what a trainer writes -------------------------------------------------------
    def train_step(self, batch: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def snapshot(self) -> torch.Tensor | None:
        """A picture of the model after each epoch (uint8 CHW), or None."""
        return None

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    # --- helpers for subclasses -----------------------------------------------------
    def autocast(self):
        return autocast(self.device, self.amp)

    def train_mode(self, on: bool = True) -> None:
        for m in self.models.values():
            m.train(on)

    # --- the loop -------------------------------------------------------------------
    def fit(self, data: BatchSource, epochs: int,
            metrics: dict[str, Callable[["Trainer"], float | dict[str, float]]] | None = None,
            resume: bool = True, fresh: bool = False) -> "Trainer":
        """Train until ``epochs`` epochs are done in all, continuing from the checkpoint in
        ``checkpoint_dir`` when there is one (and its configuration matches). ``fresh=True``
        deletes that checkpoint first, and says so: the run starts again from its first step."""
        if epochs < 0:
            raise ValueError(f"epochs must be >= 0; got {epochs}")
        if fresh and self.checkpoint_dir is not None and (self.checkpoint_dir / CHECKPOINT).exists():
            (self.checkpoint_dir / CHECKPOINT).unlink()
            print(f"[labkit] fresh=True: deleted {self.checkpoint_dir / CHECKPOINT}; {self.name} starts again", flush=True)
        if self.checkpoint_dir is not None and (self.checkpoint_dir / CHECKPOINT).exists():
            if not resume:
                raise FileExistsError(
                    f"{self.checkpoint_dir / CHECKPOINT} exists; pass resume=True to continue it, "
                    f"or choose another checkpoint_dir (nothing is overwritten)"
                )
            if self.epoch == 0:
                self.load_checkpoint(self.checkpoint_dir / CHECKPOINT)
                self.resumed_from = self.epoch
            if self.epoch > epochs:
                raise RuntimeError(
                    f"{self.checkpoint_dir / CHECKPOINT} holds {self.epoch} epochs, more than the {epochs} asked for; "
                    f"ask for at least {self.epoch}, or use another run folder (run_root / checkpoint_dir)"
                )
        data.to(self.device)
        mode = _progress_mode()
        bar = None
        if mode == "bar" and self.epoch < epochs:
            from tqdm.auto import tqdm

            bar = tqdm(total=(epochs - self.epoch) * len(data), desc=self.name, leave=True)
        while self.epoch < epochs:
            clock = run_clock(self.device)
            start = clock()
            self.train_mode(True)
            records: list[dict[str, torch.Tensor]] = []
            for i, batch in enumerate(data.epoch(self.gen)):
                out = self.train_step(batch)
                records.append({k: torch.as_tensor(v, device=self.device).detach().float() for k, v in out.items()})
                if bar is not None:
                    bar.update(1)
                    if i % 25 == 0:
                        bar.set_postfix({k: f"{float(torch.as_tensor(v).detach()):.3f}" for k, v in out.items() if k.startswith("loss")}, refresh=False)
            # one copy to the host per value and epoch (not one sync per step)
            stacked = {k: torch.stack([r[k] for r in records]).cpu() for k in records[0]} if records else {}
            self._check_finite(stacked)
            self._check_weights()
            means = {k: float(v.mean()) for k, v in stacked.items()}
            for k, v in stacked.items():
                self.steps.setdefault(k, []).extend(v.tolist())
            self.epoch += 1
            for scheduler in self.schedulers.values():  # schedules are functions of the epoch
                scheduler.step()
            self.train_mode(False)
            with torch.no_grad():
                shot = self.snapshot() if self.epoch % self.snapshot_every == 0 or self.epoch == epochs else None
                if shot is not None:
                    self.snapshots.append(shot.cpu())
                    self.snapshot_epochs.append(self.epoch)
                extra = {}
                for name, fn in (metrics or {}).items():  # a metric may return several named values at once
                    value = fn(self)
                    extra.update({k: float(v) for k, v in value.items()} if isinstance(value, dict) else {name: float(value)})
            self.train_mode(True)
            took = clock() - start
            self.seconds += took
            self.history.append({"epoch": self.epoch, **means, **extra, "seconds": took})
            # text mode: every epoch of a short run, about ten lines of a long one, and the last
            if mode == "text" and (self.epoch % max(1, epochs // 10) == 0 or self.epoch == epochs):
                shown = ", ".join(f"{k} {v:.3f}" for k, v in {**means, **extra}.items() if not k.startswith(self.hidden_in_log))
                print(f"{self.name}: epoch {self.epoch}/{epochs}  {shown}  ({took:.1f} s)", file=sys.stdout, flush=True)
            console.say(f"{self.name}: epoch {self.epoch}/{epochs}  ({took:.1f} s)", quiet_for=0 if self.epoch == epochs else 5)
            if self.checkpoint_dir is not None:
                self.save_checkpoint(self.checkpoint_dir / CHECKPOINT)
        if bar is not None:
            bar.close()
        self.train_mode(False)
        return self

    def _kept(self) -> str:
        if self.checkpoint_dir is not None and (self.checkpoint_dir / CHECKPOINT).exists():
            return f"the last good checkpoint (epoch {self.epoch}) is kept at {self.checkpoint_dir / CHECKPOINT}"
        return "no checkpoint was written for this epoch"

    def _check_finite(self, stacked: dict[str, torch.Tensor]) -> None:
        """Stop at the first NaN or infinite step value, or a loss beyond ``loss_bound``."""
        for k, values in stacked.items():
            bad = ~torch.isfinite(values)
            if k.startswith("loss"):
                bad |= values.abs() > self.loss_bound
            bad = torch.nonzero(bad).flatten()
            if len(bad):
                step, value = int(bad[0]), float(values[int(bad[0])])
                error = NonFiniteLossError if not math.isfinite(value) else DivergenceError
                what = f"became {value}" if error is NonFiniteLossError else f"reached {value:.3g}, beyond {self.loss_bound:g}"
                raise error(
                    f"{self.name}: {k} {what} at epoch {self.epoch + 1}, step {step + 1}; training stopped and "
                    f"{self._kept()}. Try a lower learning rate or check the data for NaNs."
                )

    def _check_weights(self) -> None:
        """Stop when a weight is no longer finite or beyond ``weight_bound`` (a diverged run)."""
        for name, model in self.models.items():
            for pname, p in model.named_parameters():
                top = float(p.detach().abs().max()) if p.numel() else 0.0
                if not math.isfinite(top) or top > self.weight_bound:
                    raise DivergenceError(
                        f"{self.name}: weight {name}.{pname} reached {top:.3g} (bound {self.weight_bound:g}) in epoch "
                        f"{self.epoch + 1}: the run diverged; training stopped and {self._kept()}. "
                        f"Try a smaller learning rate."
                    )

    # --- checkpoints ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        rng = {"data": self.gen.get_state(), "torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "format": 1,
            "name": self.name,
            "config": json.loads(json.dumps(self.config, default=str)),
            "epoch": self.epoch,
            "models": {k: m.state_dict() for k, m in self.models.items()},
            "optimizers": {k: _portable(o.state_dict()) for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "history": self.history,
            "steps": self.steps,
            "snapshots": self.snapshots,
            "snapshot_epochs": self.snapshot_epochs,
            "seconds": self.seconds,
            "rng": rng,
            "extra": self.extra_state(),
        }

    def save_checkpoint(self, path: str | Path) -> Path:
        return atomic_save(self.state_dict(), path)

    def load_checkpoint(self, path: str | Path) -> None:
        path = Path(path)
        way_out = (f"Delete {path} (or pass fresh=True to the run, which does that) to train this run again "
                   f"from the start, or pass another run_root.")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise CheckpointError(f"{path}: not a readable labkit checkpoint ({type(err).__name__}: {err}). {way_out}") from err
        if not isinstance(state, dict) or state.get("format") != 1:
            raise CheckpointError(f"{path}: not a labkit checkpoint (format 1). {way_out}")
        mine = json.loads(json.dumps(self.config, default=str))
        if state["config"] != mine:
            diff = sorted(k for k in set(mine) | set(state["config"]) if mine.get(k) != state["config"].get(k))
            theirs = state["config"]
            said = ", ".join(f"{k}: {theirs.get(k)!r} there, {mine.get(k)!r} here" for k in diff)
            raise CheckpointError(f"{path} was written with other settings ({said}); use another checkpoint_dir for these settings")
        if set(state["models"]) != set(self.models):
            raise CheckpointError(f"{path}: holds models {sorted(state['models'])}, this trainer has {sorted(self.models)}")
        for k, m in self.models.items():
            m.load_state_dict(state["models"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        for k, s in self.schedulers.items():
            s.load_state_dict(state["schedulers"][k])
        self.epoch = state["epoch"]
        self.history = state["history"]
        self.steps = state["steps"]
        self.snapshots = state["snapshots"]
        self.snapshot_epochs = state.get("snapshot_epochs", list(range(1, len(self.snapshots) + 1)))
        self.seconds = state["seconds"]
        self.gen.set_state(state["rng"]["data"])
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.load_extra_state(state["extra"])
        if self.captured is not None:  # its graphs hold the optimisers' replaced state tensors
            self.captured.reset()
