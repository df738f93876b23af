"""The MNIST GAN of paper 004 (Ferianc & Manocha): a dense-then-upsampling generator and a
small convolutional discriminator, both with a capacity multiplier ``F``, the discriminator
with a depth ``D``, and their class-conditional twins.

Generator at F=1 (the paper's Figure 1)::

    z(100) → Dense 1024 → BN → ReLU → Dense 7·7·128 → BN → ReLU → reshape 128×7×7
           → upsample ×2 → Conv 5×5, 64 → BN → ReLU → upsample ×2 → Conv 5×5, 1 → tanh

That is 6,768,129 parameters counted as Keras counts them (batch-norm moving statistics
included), exactly the paper's number.

Discriminator, reconstructed from the text (the figure is lost)::

    x(1×28×28) → Conv 5×5 s2, 64 → BN → ELU → Conv 5×5, 128 → BN → ELU
               → (D−1) × [Conv 3×3, 128 → BN → ELU] → max-pool 2 → flatten → Dense 16 → ELU → Dense 1

307,745 parameters at F=1, D=1 against the paper's 307,737. It returns a logit; the paper's
final sigmoid is inside the loss (``BCEWithLogits``), which is numerically safer.

Class-conditional (the paper's section 3.1): the one-hot label is concatenated to the noise at
the generator's first Dense layer; in the discriminator the label goes through Dense 784, is
reshaped to 28×28 and concatenated to the image as a second channel.
"""
from __future__ import annotations

import torch
from torch import nn

from labkit.models.common import LabelPlane, init_weights, width as _width, with_label


class VirtualBatchNorm(nn.Module):
    """Batch norm whose statistics come from a random part of the batch (paper 004's variant
    of virtual batch normalisation): in training, a random ``ref_fraction`` of the batch is the
    reference, and the whole batch is normalised with the reference's mean and variance; a new
    reference is drawn every step. In evaluation the running statistics are used, as in
    ``BatchNorm``. Keras-style counts are the same as batch norm's (scale, shift, moving mean
    and variance)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, ref_fraction: float = 0.5):
        super().__init__()
        if not 0 < ref_fraction <= 1:
            raise ValueError(f"ref_fraction must be in (0, 1]; got {ref_fraction}")
        self.eps, self.momentum, self.ref_fraction = eps, momentum, ref_fraction
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = [0] + list(range(2, x.ndim))
        shape = [1, -1] + [1] * (x.ndim - 2)
        if self.training:
            n = x.shape[0]
            k = max(2, int(round(n * self.ref_fraction)))
            ref = x[torch.randperm(n, device=x.device)[:k]] if k < n else x
            mean = ref.mean(dims)
            var = ref.var(dims, unbiased=False)
            with torch.no_grad():
                count = ref.numel() / ref.shape[1]
                self.running_mean.lerp_(mean.detach().float(), self.momentum)
                self.running_var.lerp_(var.detach().float() * count / max(count - 1, 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        x = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        return x * self.weight.view(shape) + self.bias.view(shape)


def _norm(kind: str, n: int, dims: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(n) if dims == 1 else nn.BatchNorm2d(n)
    if kind == "virtual":
        return VirtualBatchNorm(n)
    raise ValueError(f"norm must be 'batch' or 'virtual'; got {kind!r}")


class MnistGenerator(nn.Module):
    def __init__(self, nz: int = 100, F: float = 1.0, num_classes: int = 0, norm: str = "batch"):
        super().__init__()
        self.nz, self.num_classes, self.F = nz, num_classes, F
        dense, ch, mid = _width(1024, F), _width(128, F), _width(64, F)
        self.ch = ch
        self.dense = nn.Sequential(
            nn.Linear(nz + num_classes, dense), _norm(norm, dense, 1), nn.ReLU(),
            nn.Linear(dense, 7 * 7 * ch), _norm(norm, 7 * 7 * ch, 1), nn.ReLU(),
        )
        self.conv = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(ch, mid, 5, padding=2), _norm(norm, mid, 2), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(mid, 1, 5, padding=2), nn.Tanh(),
        )
        init_weights(self, "glorot")

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_label(z, y, self.num_classes)
        return self.conv(self.dense(z).view(-1, self.ch, 7, 7))


class MnistDiscriminator(nn.Module):
    def __init__(self, F: float = 1.0, depth: int = 1, num_classes: int = 0, norm: str = "batch", hidden: int = 16):
        super().__init__()
        if depth < 1:
            raise ValueError(f"discriminator depth D must be >= 1; got {depth}")
        self.num_classes = num_classes
        c1, c2 = _width(64, F), _width(128, F)
        if num_classes:
            self.label = LabelPlane(num_classes, 28)
        layers: list[nn.Module] = [
            nn.Conv2d(1 + (1 if num_classes else 0), c1, 5, stride=2, padding=2), _norm(norm, c1, 2), nn.ELU(),
            nn.Conv2d(c1, c2, 5, padding=2), _norm(norm, c2, 2), nn.ELU(),
        ]
        for _ in range(depth - 1):
            layers += [nn.Conv2d(c2, c2, 3, padding=1), _norm(norm, c2, 2), nn.ELU()]
        layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(7 * 7 * c2, hidden), nn.ELU(), nn.Linear(hidden, 1)]
        self.net = nn.Sequential(*layers)
        init_weights(self, "glorot")

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-2:] != (28, 28):
            raise ValueError(f"MnistDiscriminator takes 28x28 images; got {tuple(x.shape[-2:])}")
        if self.num_classes:
            x = self.label(x, y)
        return self.net(x).flatten()
