"""Emotion classifiers of paper 001 (Birenbaum, "Data Augmentation Using GANs"), Part B.

``SimpleFERNet``, the paper's "Simple" classifier, follows its Keras layer table exactly at 48×48×1::

    Conv 3×3, 64 'valid' → Conv 3×3, 64 → BN → max-pool 2 → dropout
    [Conv 3×3, c → BN → Conv 3×3, c → BN → max-pool 2 → dropout] for c = 128, 256, 512
    flatten (2048) → Dense 512 → dropout → Dense 256 → dropout → Dense 128 → dropout → Dense 7

5,905,863 parameters as Keras counts them, 5,902,151 trainable, 3,712 non-trainable (the batch-norm
moving statistics). Every convolution and hidden dense layer has a ReLU; the table gives no dropout
rates, so the conventional 0.25 (convolutional blocks) and 0.5 (dense layers) are used.

``SurrealFERNet``, the classifier the paper tried first and reported "doesn't work": two 3×3
convolutions (64, 128) with ReLU, each followed by a 3×3 stride-2 max-pool and local response
normalisation (as in TensorFlow's CIFAR-10 tutorial model it copies), then two dense layers of
256 and a 7-way output.
"""
from __future__ import annotations

import torch
from torch import nn


def _conv(cin: int, cout: int, padding: int | str = "same", bn: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=padding), nn.ReLU()]
    return layers + ([nn.BatchNorm2d(cout)] if bn else [])


class SimpleFERNet(nn.Module):
    def __init__(self, num_classes: int = 7, in_channels: int = 1, image_size: int = 48,
                 conv_dropout: float = 0.25, dense_dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = [
            *_conv(in_channels, 64, padding=0, bn=False), *_conv(64, 64),
            nn.MaxPool2d(2), nn.Dropout(conv_dropout),
        ]
        side = (image_size - 2) // 2
        for cin, cout in ((64, 128), (128, 256), (256, 512)):
            layers += [*_conv(cin, cout), *_conv(cout, cout), nn.MaxPool2d(2), nn.Dropout(conv_dropout)]
            side //= 2
        if side < 1:
            raise ValueError(f"image_size {image_size} is too small for four 2x2 poolings (48 is the paper's)")
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.dense = nn.Sequential(
            nn.Linear(512 * side * side, 512), nn.ReLU(), nn.Dropout(dense_dropout),
            nn.Linear(512, 256), nn.ReLU(), nn.Dropout(dense_dropout),
            nn.Linear(256, 128), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(dense_dropout), nn.Linear(128, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128 penultimate activations (for FID on FER features)."""
        return self.dense(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class SurrealFERNet(nn.Module):
    def __init__(self, num_classes: int = 7, in_channels: int = 1, image_size: int = 48):
        super().__init__()
        # TensorFlow's LRN(depth_radius=4, bias=1, alpha=0.001/9, beta=0.75) in PyTorch's terms
        lrn = lambda: nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0)  # noqa: E731
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), lrn(),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), lrn(),
            nn.Flatten(),
        )
        side = -(-(-(-image_size // 2)) // 2)  # two 'same' stride-2 poolings: ceil(ceil(s/2)/2)
        self.dense = nn.Sequential(nn.Linear(128 * side * side, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU())
        self.head = nn.Linear(256, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
