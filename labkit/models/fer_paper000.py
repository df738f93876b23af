"""The networks of paper 000 (Hasan & Ali, "Image Augmentation Using Deep Convolutional GAN").

``Paper000Generator``: "two dense layers with 64 neurons each, followed by a sequence of five
generator blocks; each block upsamples (except the last), applies a 2-D convolution with kernel
6 and stride 1, batch normalisation and tanh". The only reading in which those blocks end at
48×48 is that the 64 dense outputs form an 8×8 map and the convolutions are unpadded::

    8 → ×2 → conv6 → 11 → ×2 → 17 → ×2 → 29 → ×2 → 53 → conv6 → 48

The channel widths are not given; 256, 128, 64, 32 are used (times a capacity factor ``F``;
the quick profile trains at F=0.25), and the output has ``channels`` planes (the paper drew
3×48×48 images from the grey FER faces; 1 keeps them grey).

``Paper000Discriminator``: "four blocks, each a 2-D convolution, batch normalisation and tanh;
the last block only the convolution". Kernels are not given: 4×4 stride 2 (48 → 24 → 12 → 6)
and a last 6×6 convolution to one score per image.

With ``num_classes`` > 0 both become class-conditional (the conditional GAN the paper names as
future work): the generator reads a one-hot label beside the noise, the discriminator a learned
label plane beside the image.

``Paper000CNN``: the classifier of the paper's Figure 5 as far as the text fixes it:
convolutions of varying kernel sizes, max-pooling, dropout, flatten, a dense layer whose 1,024
features feed the 7-way output ("input: (None, 1024) output: (None, 7)"), ReLU inside. Its
convolution widths (32 … 256) are ours, scaled by ``F``; the 1,024 features stay.
"""
from __future__ import annotations

import torch
from torch import nn

from labkit.models.common import Dropout, LabelPlane, init_weights, width, with_label


class Paper000Generator(nn.Module):
    def __init__(self, nz: int = 100, channels: int = 1, F: float = 1.0, num_classes: int = 0,
                 widths: tuple[int, ...] = (256, 128, 64, 32)):
        super().__init__()
        self.nz, self.num_classes = nz, num_classes
        self.dense = nn.Sequential(nn.Linear(nz + num_classes, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh())
        blocks: list[nn.Module] = []
        cin = 1
        for w in (width(w, F) for w in widths):  # four blocks that upsample first
            blocks += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, w, 6), nn.BatchNorm2d(w), nn.Tanh()]
            cin = w
        blocks += [nn.Conv2d(cin, channels, 6), nn.BatchNorm2d(channels), nn.Tanh()]  # the last block: no upsampling
        self.blocks = nn.Sequential(*blocks)
        init_weights(self, "dcgan")

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_label(z, y, self.num_classes)
        return self.blocks(self.dense(z).view(-1, 1, 8, 8))


class Paper000Discriminator(nn.Module):
    def __init__(self, channels: int = 1, F: float = 1.0, num_classes: int = 0,
                 widths: tuple[int, int, int] = (64, 128, 256)):
        super().__init__()
        self.num_classes = num_classes
        self.label = LabelPlane(num_classes, 48) if num_classes else None
        layers: list[nn.Module] = []
        cin = channels + (1 if num_classes else 0)
        for w in (width(w, F) for w in widths):
            layers += [nn.Conv2d(cin, w, 4, stride=2, padding=1), nn.BatchNorm2d(w), nn.Tanh()]
            cin = w
        layers += [nn.Conv2d(cin, 1, 6)]
        self.net = nn.Sequential(*layers)
        init_weights(self, "dcgan")

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-2:] != (48, 48):
            raise ValueError(f"Paper000Discriminator takes 48x48 images; got {tuple(x.shape[-2:])}")
        if self.label is not None:
            x = self.label(x, y)
        return self.net(x).flatten()


class Paper000CNN(nn.Module):
    def __init__(self, num_classes: int = 7, in_channels: int = 1, image_size: int = 48, dropout: float = 0.25,
                 F: float = 1.0, batch_norm: bool = True):
        super().__init__()
        c = [width(w, F) for w in (32, 64, 128, 128, 256)]

        def conv(cin: int, cout: int, k: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, k, padding=k // 2), *([nn.BatchNorm2d(cout)] if batch_norm else []), nn.ReLU()]

        pool = lambda: [nn.MaxPool2d(2), Dropout(dropout)]  # noqa: E731
        self.body = nn.Sequential(
            *conv(in_channels, c[0], 3), *conv(c[0], c[1], 5), *pool(),
            *conv(c[1], c[2], 3), *conv(c[2], c[3], 5), *pool(),
            *conv(c[3], c[4], 3), *pool(),
            nn.Flatten(),
        )
        side = image_size // 8
        if side < 1:
            raise ValueError(f"image_size {image_size} is too small for three 2x2 poolings")
        self.dense = nn.Sequential(nn.Linear(c[4] * side * side, 1024), nn.ReLU())
        self.head = nn.Sequential(Dropout(2 * dropout), nn.Linear(1024, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 1,024 features that feed the output layer."""
        return self.dense(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
