"""Emotion classifiers of paper 001 (Birenbaum, "Data Augmentation Using GANs"), Part B.

``SimpleFERNet``, the paper's "Simple" classifier, follows its Keras layer table exactly at 48×48×1::

    Conv 3×3, 64 'valid' → Conv 3×3, 64 → BN → max-pool 2 → dropout
    [Conv 3×3, c → BN → Conv 3×3, c → BN → max-pool 2 → dropout] for c = 128, 256, 512
    flatten (2048) → Dense 512 → dropout → Dense 256 → dropout → Dense 128 → dropout → Dense 7

5,905,863 parameters as Keras counts them, 5,902,151 trainable, 3,712 non-trainable (the batch-norm
moving statistics) at the default capacity ``F=1``; ``F`` scales every width (the quick profiles
train narrower copies). Every convolution and hidden dense layer has a ReLU; the table gives no dropout
rates, so the conventional 0.25 (convolutional blocks) and 0.5 (dense layers) are used.

``SurrealFERNet``, the classifier the paper tried first and reported "doesn't work": two 3×3
convolutions (64, 128) with ReLU, each followed by a 3×3 stride-2 max-pool and local response
normalisation (as in TensorFlow's CIFAR-10 tutorial model it copies), then two dense layers of
256 and a 7-way output.
"""
from __future__ import annotations

import torch
from torch import nn

from labkit.models.common import Dropout, width


def _conv(cin: int, cout: int, padding: int | str = "same", bn: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=padding), nn.ReLU()]
    return layers + ([nn.BatchNorm2d(cout)] if bn else [])


class SimpleFERNet(nn.Module):
    def __init__(self, num_classes: int = 7, in_channels: int = 1, image_size: int = 48,
                 conv_dropout: float = 0.25, dense_dropout: float = 0.5, F: float = 1.0):
        super().__init__()
        c = [width(w, F) for w in (64, 128, 256, 512)]
        d = [width(w, F) for w in (512, 256, 128)]
        layers: list[nn.Module] = [
            *_conv(in_channels, c[0], padding=0, bn=False), *_conv(c[0], c[0]),
            nn.MaxPool2d(2), Dropout(conv_dropout),
        ]
        side = (image_size - 2) // 2
        for cin, cout in zip(c, c[1:]):
            layers += [*_conv(cin, cout), *_conv(cout, cout), nn.MaxPool2d(2), Dropout(conv_dropout)]
            side //= 2
        if side < 1:
            raise ValueError(f"image_size {image_size} is too small for four 2x2 poolings (48 is the paper's)")
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.dense = nn.Sequential(
            nn.Linear(c[3] * side * side, d[0]), nn.ReLU(), Dropout(dense_dropout),
            nn.Linear(d[0], d[1]), nn.ReLU(), Dropout(dense_dropout),
            nn.Linear(d[1], d[2]), nn.ReLU(),
        )
        self.head = nn.Sequential(Dropout(dense_dropout), nn.Linear(d[2], num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128 penultimate activations (for FID on FER features)."""
        return self.dense(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class SurrealFERNet(nn.Module):
    def __init__(self, num_classes: int = 7, in_channels: int = 1, image_size: int = 48, F: float = 1.0):
        super().__init__()
        c1, c2, d = width(64, F), width(128, F), width(256, F)
        # TensorFlow's LRN(depth_radius=4, bias=1, alpha=0.001/9, beta=0.75) in PyTorch's terms
        lrn = lambda: nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0)  # noqa: E731
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), lrn(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), lrn(),
            nn.Flatten(),
        )
        side = -(-(-(-image_size // 2)) // 2)  # two 'same' stride-2 poolings: ceil(ceil(s/2)/2)
        self.dense = nn.Sequential(nn.Linear(c2 * side * side, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU())
        self.head = nn.Linear(d, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
