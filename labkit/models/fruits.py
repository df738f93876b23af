"""A small fruit classifier (Fruits-360 varieties) whose features judge generated fruits offline,
and Inception-v3 (ImageNet) as IS and FID are usually taken, when its weights are at hand.

:class:`FruitNet`: three convolution blocks (conv, batch norm, ReLU, 2×2 max-pool) of 32-64-128
channels (× ``F``), global average pooling to 128 features (× ``F``), one linear output. It reads
any square size (32, 64, 100 …).

:class:`InceptionV3`: torchvision's Inception-v3 with ImageNet weights, from a local file
(``weights=<path to the state dict>``) or downloaded (``weights="download"``, torchvision's
``IMAGENET1K_V1``). It takes images in [-1, 1], resizes them to 299×299 and normalises them as
ImageNet; ``forward`` gives the 1,000 ImageNet logits (for IS), ``features`` the 2,048 pool
features (for FID). Scores from torchvision's weights are close to, not identical with, those of
the TensorFlow reference weights most papers used.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
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


_MEAN, _STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class InceptionV3(nn.Module):
    def __init__(self, weights: str | Path = "download"):
        super().__init__()
        from torchvision.models import Inception_V3_Weights, inception_v3

        net = inception_v3(weights=None, aux_logits=True, init_weights=False)
        if str(weights) == "download":
            net.load_state_dict(Inception_V3_Weights.IMAGENET1K_V1.get_state_dict(progress=True, weights_only=True, check_hash=True))
        else:
            path = Path(weights).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no Inception-v3 weights file (a state dict of torchvision's "
                                        f"inception_v3, e.g. inception_v3_google-0cc3c7bd.pth); or use 'download'")
            try:
                net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            except Exception as err:  # noqa: BLE001 - name the file and what was expected
                raise ValueError(f"{path}: not a state dict of torchvision's inception_v3 ({err})") from err
        self.fc, net.fc = net.fc, nn.Identity()
        self.net = net.eval()
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))
        for p in self.parameters():
            p.requires_grad_(False)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate((x.float() + 1) / 2, size=(299, 299), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 2,048 pool3 features."""
        self.net.eval()
        return self.net(self._prepare(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))
