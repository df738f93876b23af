"""The DCGAN of Radford et al. (2016), as paper 003 (Mo, "Project Report ECE 176") lists it.

At 64×64×3 (the paper's layer list, PyTorch's DCGAN tutorial)::

    G: ConvT 100→512 k4 s1 (1→4) → BN → ReLU → ConvT 512→256 k4 s2 p1 (8) → BN → ReLU
       → ConvT 256→128 (16) → BN → ReLU → ConvT 128→64 (32) → BN → ReLU → ConvT 64→3 (64) → tanh
    D: Conv 3→64 k4 s2 p1 (32) → LReLU(0.2) → Conv 64→128 (16) → BN → LReLU → Conv 128→256 (8)
       → BN → LReLU → Conv 256→512 (4) → BN → LReLU → Conv 512→1 k4 s1 (1) → sigmoid

No layer has a bias. For 48×48×1 (FER2013) the paper changes "the first and last layer of the
generator" (and so the discriminator's ends): the first transposed convolution takes kernel 3, so the
maps grow 3 → 6 → 12 → 24 → 48, the last one draws 1 channel; the discriminator reads 1 channel and
its last convolution takes kernel 3 (48 → 24 → 12 → 6 → 3 → 1). The middle layers are unchanged.
The same rule gives 96×96 (kernel 6: 6 → … → 96, near Fruits-360's 100×100) and, with one
stride-2 layer fewer (256-128-64 channels), 32×32.

The discriminator returns a logit; the paper's sigmoid lives in the loss (``BCEWithLogits``).
With ``num_classes`` > 0 both become class-conditional: the generator reads a one-hot label beside
the noise, the discriminator a learned label plane beside the image.
"""
from __future__ import annotations

import torch
from torch import nn

from labkit.models.common import LabelPlane, init_weights, width, with_label

# image side → (the first generator / last discriminator kernel, number of stride-2 layers)
_LAYOUT = {64: (4, 4), 48: (3, 4), 96: (6, 4), 32: (4, 3)}


def _layout(size: int) -> tuple[int, int]:
    if size not in _LAYOUT:
        raise ValueError(f"the Radford DCGAN is built for {sorted(_LAYOUT)}-pixel square images (64 is the paper's, "
                         f"48 FER2013's); got {size}")
    return _LAYOUT[size]


class RadfordGenerator(nn.Module):
    def __init__(self, nz: int = 100, channels: int = 3, size: int = 64, F: float = 1.0, num_classes: int = 0):
        super().__init__()
        self.nz, self.num_classes, self.size = nz, num_classes, size
        k, n = _layout(size)
        c = [width(w, F) for w in (512, 256, 128, 64)[4 - n:]]
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz + num_classes, c[0], k, 1, 0, bias=False),
                                   nn.BatchNorm2d(c[0]), nn.ReLU(True)]
        for cin, cout in zip(c, c[1:]):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(c[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self, "dcgan")

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_label(z, y, self.num_classes)
        return self.net(z.view(len(z), -1, 1, 1))


class RadfordDiscriminator(nn.Module):
    def __init__(self, channels: int = 3, size: int = 64, F: float = 1.0, num_classes: int = 0):
        super().__init__()
        self.size = size
        k, n = _layout(size)
        c = [width(w, F) for w in (64, 128, 256, 512)[:n]]
        self.label = LabelPlane(num_classes, size) if num_classes else None
        layers: list[nn.Module] = [nn.Conv2d(channels + (1 if num_classes else 0), c[0], 4, 2, 1, bias=False),
                                   nn.LeakyReLU(0.2, True)]
        for cin, cout in zip(c, c[1:]):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(c[-1], 1, k, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        init_weights(self, "dcgan")

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-2:] != (self.size, self.size):
            raise ValueError(f"this discriminator takes {self.size}x{self.size} images; got {tuple(x.shape[-2:])}")
        if self.label is not None:
            x = self.label(x, y)
        return self.net(x).flatten()
