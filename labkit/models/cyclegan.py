"""CycleGAN's networks (Zhu et al. 2017), as paper 001 uses them for 48×48 grey faces.

:class:`ResnetGenerator`: reflect-pad, 7×7 convolution to ``ngf`` channels, two stride-2
convolutions (48 → 24 → 12, ``ngf`` → 2·ngf → 4·ngf), ``blocks`` residual blocks (6, as the paper
says for small images), two stride-2 transposed convolutions back (12 → 24 → 48), a 7×7
convolution to one channel and tanh. Instance norm and ReLU after every hidden convolution.

:class:`PatchDiscriminator`: the 70×70 PatchGAN's layer pattern (4×4 convolutions, stride 2 three
times, then stride 1 twice, instance norm from the second layer, leaky ReLU 0.2), which on a
48×48 face gives a 4×4 map of real/fake scores, each judging an overlapping patch. It returns
raw scores: the least-squares loss reads them directly, and as a Wasserstein critic it is the
same network "without the sigmoid". :meth:`PatchDiscriminator.features` gives the activations
that feed the last layer: paper 001's weighted cycle loss compares faces on them.
"""
from __future__ import annotations

import torch
from torch import nn

from labkit.models.common import width


def _init(module: nn.Module) -> None:
    """CycleGAN's initialisation: N(0, 0.02) weights, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ResidualBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    def __init__(self, channels: int = 1, F: float = 1.0, blocks: int = 6, ngf: int = 64):
        super().__init__()
        if blocks < 1:
            raise ValueError(f"blocks must be >= 1; got {blocks}")
        c = width(ngf, F)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, c, 7), nn.InstanceNorm2d(c), nn.ReLU(True)]
        for k in (1, 2):  # downsampling
            layers += [nn.Conv2d(c * k, c * 2 * k, 3, stride=2, padding=1), nn.InstanceNorm2d(c * 2 * k), nn.ReLU(True)]
        layers += [ResidualBlock(c * 4) for _ in range(blocks)]
        for k in (4, 2):  # upsampling
            layers += [nn.ConvTranspose2d(c * k, c * k // 2, 3, stride=2, padding=1, output_padding=1),
                       nn.InstanceNorm2d(c * k // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"the generator halves the image twice: its sides must be multiples of 4; got {tuple(x.shape[-2:])}")
        return self.net(x)


class PatchDiscriminator(nn.Module):
    def __init__(self, channels: int = 1, F: float = 1.0, ndf: int = 64, layers: int = 3):
        super().__init__()
        c = width(ndf, F)
        body: list[nn.Module] = [nn.Conv2d(channels, c, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for i in range(1, layers):
            prev, mult = mult, min(2**i, 8)
            body += [nn.Conv2d(c * prev, c * mult, 4, 2, 1), nn.InstanceNorm2d(c * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2**layers, 8)
        body += [nn.Conv2d(c * prev, c * mult, 4, 1, 1), nn.InstanceNorm2d(c * mult), nn.LeakyReLU(0.2, True)]
        self.body = nn.Sequential(*body)
        self.head = nn.Conv2d(c * mult, 1, 4, 1, 1)
        _init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The activations that feed the last layer (paper 001's "last layer of D" features)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
