"""Helpers every chapter's recipes share."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from torch.nn.functional import cross_entropy

from labkit.augment import DiffAugment
from labkit.data.core import ImageSet
from labkit.runtime import seed_everything
from labkit.train import BatchSource, ClassifierTrainer, GANTrainer, run_dir
from labkit.train.classifier import predict


def paper_table(rows: Sequence[tuple[str, Any, Any]]):
    """The closing "paper reported | this run" table."""
    import pandas as pd

    return pd.DataFrame([{"quantity": q, "paper reported": p, "this run": r} for q, p, r in rows]).set_index("quantity")


def percent(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.1f}%"


def one_class(data: ImageSet, c: int) -> ImageSet:
    """The images of class ``c`` alone, as a one-class set (for a GAN trained on one class)."""
    name = data.classes[c]
    members = torch.nonzero(data.y == c).flatten()
    if len(members) < 2:
        raise ValueError(f"{data.source}: class {name} has {len(members)} images; a GAN needs at least 2")
    return ImageSet(data.x[members], torch.zeros(len(members), dtype=torch.long), [name], f"{data.source}, {name} only")


def fit_gan(data: ImageSet, build: Callable[[], tuple[nn.Module, nn.Module]], *, name: str, config: dict[str, Any],
            epochs: int, batch: int, lr: float, loss, num_classes: int = 0, d_steps: int = 1, n_fixed: int | None = None,
            seed: int = 0, device="auto", run_root=None, diffaugment: str | None = None,
            metrics: dict[str, Callable] | None = None) -> GANTrainer:
    """Seed, build ``(G, D)`` with ``build()`` (so initial weights follow the seed), and train them
    on ``data`` with Adam (β1 = 0.5) and ``loss``; the run folder is named after ``config`` plus
    the data's fingerprint, batch, learning rate and seed, so a rerun resumes and other settings
    never share a checkpoint. About 25 fixed-noise grids are kept however long the run.
    ``diffaugment``: a DiffAugment policy (e.g. ``"color,translation,cutout"``) drawn from the
    trainer's random source; ``metrics``: per-epoch measures, as :meth:`Trainer.fit` takes them."""
    config = {**config, "data": data.fingerprint(), "batch": batch, "lr": lr, "seed": seed}
    if diffaugment:
        config["diffaugment"] = diffaugment
    seed_everything(seed)
    G, D = build()
    t = GANTrainer(G, D, loss=loss, num_classes=num_classes, lr_g=lr, lr_d=lr, d_steps=d_steps, seed=seed,
                   device=device, name=name, config=config, n_fixed=n_fixed, snapshot_every=max(1, epochs // 25),
                   checkpoint_dir=run_dir(run_root, name, config))
    if diffaugment:
        t.augment = DiffAugment(diffaugment, generator=t.gen)
    t.fit(BatchSource(data.x, data.y, batch_size=min(batch, len(data))), epochs, metrics=metrics)
    return t


def fit_classifier(train: ImageSet, build: Callable[[], nn.Module], *, name: str, config: dict[str, Any], epochs: int,
                   batch: int, lr: float, seed: int = 0, augment=None, class_weights: torch.Tensor | None = None,
                   val: ImageSet | None = None, device="auto", run_root=None) -> ClassifierTrainer:
    """Seed, build the classifier with ``build()`` and train it with Adam and cross-entropy on
    ``train`` (run folder named after ``config``, the data's fingerprint, batch, learning rate and
    seed, so a rerun resumes). Records train loss and accuracy every epoch, and with ``val`` the
    validation loss and accuracy too (one pass)."""
    config = {**config, "data": train.fingerprint(), "n": len(train), "batch": batch, "lr": lr, "seed": seed}
    seed_everything(seed)  # initial weights follow the seed
    t = ClassifierTrainer(build(), lr=lr, seed=seed, device=device, name=name, config=config, augment=augment,
                          class_weights=class_weights, checkpoint_dir=run_dir(run_root, name, config))

    def validation(tr):
        logits = predict(tr.model, val.x)
        return {"val_loss": float(cross_entropy(logits, val.y)), "val_acc": float((logits.argmax(1) == val.y).float().mean())}

    t.fit(BatchSource(train.x, train.y, batch_size=min(batch, len(train))), epochs,
          metrics={"validation": validation} if val is not None else None)
    return t


def class_images(gans: "dict[int, GANTrainer] | GANTrainer", c: int, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` images of class ``c``: from that class's own GAN (``gans`` a dict class → trainer)
    or from a class-conditional GAN; the noise seed is ``seed + c``."""
    if isinstance(gans, dict):
        return gans[c].generate(n, seed=seed + c)
    return gans.generate(n, torch.full((n,), c, dtype=torch.long), seed=seed + c)
