"""The classifier trainer (cross-entropy, Adam) and evaluation helpers."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from labkit.runtime import inference_batch
from labkit.train.core import Trainer


class ClassifierTrainer(Trainer):
    def __init__(self, model: nn.Module, *, lr: float = 1e-3, weight_decay: float = 0.0,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 class_weights: torch.Tensor | None = None, **core):
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        super().__init__({"model": model}, {"model": opt}, **core)
        self.model = self.models["model"]
        self.augment = augment or (lambda x: x)
        self.class_weights = class_weights.to(self.device) if class_weights is not None else None

    def train_step(self, batch):
        x, y = batch
        with self.autocast():
            logits = self.model(self.augment(x)).float()
            loss = F.cross_entropy(logits, y, weight=self.class_weights)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.detach(), "acc": (logits.argmax(1) == y).float().mean()}


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int | None = None, features: bool = False) -> torch.Tensor:
    """Logits (or, with ``features=True``, the model's ``features``) for ``x``, on the CPU, in
    float32, ``batch_size`` images at a time (default: :func:`labkit.runtime.inference_batch`)."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    batch_size = inference_batch(device) if batch_size is None else batch_size
    fn = model.features if features else model
    out = [fn(x[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)]
    model.train(was)
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of ``model`` on ``(x, y)``."""
    return float((predict(model, x).argmax(1) == y.cpu()).float().mean())
