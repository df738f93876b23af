"""A small fruit classifier (Fruits-360 varieties) whose features judge generated fruits offline
(the Inception-v3 that IS and FID are defined with is :mod:`labkit.models.fid_inception`).

:class:`FruitNet`: three convolution blocks (conv, batch norm, ReLU, 2×2 max-pool) of 32-64-128
channels (× ``F``), global average pooling to 128 features (× ``F``), one linear output. It reads
any square size (32, 64, 100 …).
"""
from __future__ import annotations

import torch
from torch import nn

from labkit.models.common import width


class FruitNet(nn.Module):
    def __init__(self, num_classes: int, channels: int = 3, F: float = 1.0):
        super().__init__()
        c = [width(w, F) for w in (32, 64, 128)]
        layers, cin = [], channels
        for cout in c:
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True), nn.MaxPool2d(2)]
            cin = cout
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c[-1], num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled penultimate features (128 × F), for FID on fruit features."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
