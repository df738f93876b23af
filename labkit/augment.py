"""Classic image augmentation on batches, as Keras's ImageDataGenerator does it (paper 000):
random horizontal flips, zoom and shear, each drawn per image, applied with one affine warp.
Runs on the batch's device and keeps the batch's shape; pass it as a trainer's ``augment``."""
from __future__ import annotations


import torch
import torch.nn.functional as F


class ClassicAugment:
    """``flip``: probability of a horizontal flip; ``zoom``: scale drawn from [1 − zoom, 1 + zoom]
    (Keras's ``zoom_range``); ``shear``: shear angle in degrees drawn from [−shear, shear]."""

    def __init__(self, flip: float = 0.5, zoom: float = 0.2, shear: float = 10.0,
                 generator: torch.Generator | None = None):
        if not 0 <= flip <= 1:
            raise ValueError(f"flip must be a probability in [0, 1]; got {flip}")
        if not 0 <= zoom < 1:
            raise ValueError(f"zoom must be in [0, 1); got {zoom}")
        if not 0 <= shear < 90:
            raise ValueError(f"shear must be degrees in [0, 90); got {shear}")
        self.flip, self.zoom, self.shear, self.generator = flip, zoom, shear, generator

    def _rand(self, n: int) -> torch.Tensor:
        return torch.rand(n, generator=self.generator)

    def matrices(self, n: int) -> torch.Tensor:
        """The (n, 2, 3) affine matrices (output → input coordinates, as affine_grid expects)."""
        sign = torch.where(self._rand(n) < self.flip, -1.0, 1.0)
        scale = 1 + self.zoom * (2 * self._rand(n) - 1)
        shear = torch.tan(torch.deg2rad(self.shear * (2 * self._rand(n) - 1)))
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = sign / scale
        theta[:, 0, 1] = shear / scale
        theta[:, 1, 1] = 1 / scale
        return theta

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        theta = self.matrices(len(x)).to(x.device, x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


