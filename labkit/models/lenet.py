"""The LeNet of paper 004's Listing 1 (Keras's classic MNIST CNN)."""
from __future__ import annotations

import torch
from torch import nn

from labkit.models.common import Dropout


class LeNet(nn.Module):
    """Conv 3x3 32 → Conv 3x3 64 → max-pool 2 → dropout 0.25 → Dense 128 → dropout 0.5 → Dense k.

    ``features`` returns the 128 penultimate activations (used for FID); ``forward``
    returns logits (the softmax lives in the loss). 1,199,882 parameters at 28x28, 10 classes.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 28):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3), nn.ReLU(),
            nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), Dropout(0.25), nn.Flatten(),
        )
        side = (image_size - 4) // 2
        self.fc = nn.Sequential(nn.Linear(64 * side * side, 128), nn.ReLU())
        self.head = nn.Sequential(Dropout(0.5), nn.Linear(128, num_classes))
        self.num_classes = num_classes

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
