"""Parameter counting (PyTorch's way and Keras's way) and weight initialisation."""
from __future__ import annotations

import torch
from torch import nn


def count_params(model: nn.Module) -> dict[str, int]:
    """Count parameters two ways.

    ``torch``: trainable tensors, as ``sum(p.numel())`` gives. ``keras``: what Keras's
    ``model.summary()`` prints as "Total params", which also counts every batch-norm layer's
    moving mean and moving variance (its "non-trainable params"). Papers written with Keras
    quote the second number.
    """
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    moving = sum(
        b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var"))
    )
    return {"torch": trainable, "keras": trainable + frozen + moving, "keras_non_trainable": frozen + moving}


def parameter_table(models: dict[str, nn.Module], paper: dict[str, int | None] | None = None):
    """A table of both counts per model beside the paper's number, for a chapter to show."""
    import pandas as pd

    rows = []
    for name, m in models.items():
        c = count_params(m)
        ref = (paper or {}).get(name)
        rows.append({
            "model": name,
            "torch (trainable)": c["torch"],
            "Keras total": c["keras"],
            "paper reported": ref if ref is not None else "—",
            "difference": (c["keras"] - ref) if ref is not None else "—",
        })
    return pd.DataFrame(rows).set_index("model")


def init_weights(model: nn.Module, scheme: str = "dcgan") -> nn.Module:
    """Initialise weights in the open.

    ``dcgan`` (Radford et al.): conv and linear weights ~ N(0, 0.02), batch-norm scale
    ~ N(1, 0.02), biases 0. ``glorot``: Keras's defaults (Glorot-uniform weights, zero biases),
    for networks that papers trained in Keras.
    """
    if scheme not in ("dcgan", "glorot"):
        raise ValueError(f"scheme must be 'dcgan' or 'glorot'; got {scheme!r}")
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if scheme == "dcgan":
                nn.init.normal_(m.weight, 0.0, 0.02)
            else:
                nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif hasattr(m, "weight") and hasattr(m, "running_mean") and m.weight is not None:
            if scheme == "dcgan":
                nn.init.normal_(m.weight, 1.0, 0.02)
            else:
                nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def one_hot(y: torch.Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return nn.functional.one_hot(y.long(), num_classes).to(dtype)


def width(base: int, factor: float, name: str = "F") -> int:
    """``base`` channels scaled by a capacity ``factor`` (at least one)."""
    if factor <= 0:
        raise ValueError(f"capacity {name} must be positive; got {factor}")
    return max(1, int(round(base * factor)))


def with_label(z: torch.Tensor, y: torch.Tensor | None, num_classes: int) -> torch.Tensor:
    """A conditional generator's input: the noise ``z`` with a one-hot label appended (``z`` as
    it is when ``num_classes`` is 0)."""
    if not num_classes:
        return z
    if y is None:
        raise ValueError("this generator is class-conditional: call it with labels y")
    return torch.cat([z, one_hot(y, num_classes, z.dtype)], dim=1)


class LabelPlane(nn.Module):
    """Class conditioning for a discriminator: a learned ``size``×``size`` plane per class,
    appended to the image as one more channel."""

    def __init__(self, num_classes: int, size: int):
        super().__init__()
        self.num_classes, self.size = num_classes, size
        self.embed = nn.Linear(num_classes, size * size)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if y is None:
            raise ValueError("this discriminator is class-conditional: call it with labels y")
        plane = self.embed(one_hot(y, self.num_classes, x.dtype)).view(-1, 1, self.size, self.size)
        return torch.cat([x, plane], dim=1)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with a faster random mask on the CPU; the same module elsewhere.

    On the CPU, torch draws a dropout mask one random number per element (``bernoulli_``): for a
    batch of 64 feature maps of 16×23×23 (FER2013's first block) that takes 5.2 ms forward and
    backward on a 2-core AMD EPYC, and the classifier's dropout layers about a tenth of its step.
    Here each element gets one random byte instead, eight bytes from one 64-bit draw of torch's
    generator (the one ``nn.Dropout`` uses, so seeding and a run's saved random state work as
    before), and is kept when its byte is at least ``round(256 p)``: 1.7 ms for the same maps
    (``benchmarks/bench_dropout.py``; the Simple classifier's step 10% faster). So ``p`` counts in
    steps of 1/256 (0.25 and 0.5 exactly; torch's own dropout within 1/512 of 0 or 1), and kept
    elements are scaled by 1 / (1 - p) of that rounded ``p``, so the layer's expected output is its
    input. The mask takes the
    input's memory layout (channels-last stays channels-last)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        drop = round(256 * self.p)
        dense = x.is_contiguous() or (x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last))
        if not self.training or not 0 < drop < 256 or x.device.type != "cpu" or not dense:
            return super().forward(x)  # p below 1/512 or above 1 - 1/512 too: torch draws it exactly
        n = x.numel()
        words = torch.randint(-(2**63), 2**63 - 1, ((n + 7) // 8,), dtype=torch.int64)
        byte = words.view(torch.uint8)[:n].as_strided(x.shape, x.stride())  # x's layout: one byte per element
        mask = (byte >= drop).to(x.dtype).mul_(256 / (256 - drop))
        return x.mul_(mask) if self.inplace else x * mask
