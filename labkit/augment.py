"""Batch augmentation: classic (flips, zoom, shear) and DiffAugment, by name (:func:`make_augment`).

Classic image augmentation on batches, as Keras's ImageDataGenerator does it (paper 000):
random horizontal flips, zoom and shear, each drawn per image, applied with one affine warp.
Runs on the batch's device and keeps the batch's shape; pass it as a trainer's ``augment``."""
from __future__ import annotations


import torch
import torch.nn.functional as F

from labkit.draws import host_random


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
        theta = self.matrices(len(x)).to(x.device, x.dtype, non_blocking=True)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)




class DiffAugment:
    """Differentiable Augmentation (Zhao, Liu, Lin, Zhu & Han, 2020), as their reference code
    defines it, for images in [-1, 1]. Each operation is drawn per sample and is differentiable
    in the images, so the generator's gradient passes through it:

    - ``color``: brightness + U(-0.5, 0.5); saturation: deviation from the per-pixel channel mean
      × U(0, 2); contrast: deviation from the image mean × U(0.5, 1.5);
    - ``translation``: an integer shift of up to 1/8 of the side each way, zero padding;
    - ``cutout``: one square of half the side set to zero, centred anywhere in the image.

    The GAN trainer applies it to real and fake images in the discriminator step and to the fakes
    in the generator step (``GANTrainer(augment=DiffAugment())``). ``generator``: the random
    source (a trainer's, so a resumed run continues the same draws)."""

    POLICIES = ("color", "translation", "cutout")

    def __init__(self, policy: str = "color,translation,cutout", generator: torch.Generator | None = None,
                 translation: float = 0.125, cutout: float = 0.5):
        self.ops = [p.strip() for p in policy.split(",") if p.strip()]
        bad = [p for p in self.ops if p not in self.POLICIES]
        if bad:
            raise ValueError(f"DiffAugment policy {policy!r}: unknown {bad}; use a comma list of {', '.join(self.POLICIES)}")
        self.generator, self.translation_ratio, self.cutout_ratio = generator, translation, cutout

    graph_safe = True  # draws only through labkit.draws.host_random: a step with it can replay as a CUDA graph

    def _u(self, n: int, x: torch.Tensor) -> torch.Tensor:
        return host_random("rand", (n, 1, 1, 1), x.device, generator=self.generator, dtype=x.dtype)

    def _int(self, low: int, high: int, n: int, device) -> torch.Tensor:
        return host_random("randint", (n, 1, 1), device, generator=self.generator, low=low, high=high)

    def brightness(self, x: torch.Tensor) -> torch.Tensor:
        return x + (self._u(len(x), x) - 0.5)

    def saturation(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        return (x - mean) * (self._u(len(x), x) * 2) + mean

    def contrast(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=[1, 2, 3], keepdim=True)
        return (x - mean) * (self._u(len(x), x) + 0.5) + mean

    def translation(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        sx, sy = int(h * self.translation_ratio + 0.5), int(w * self.translation_ratio + 0.5)
        tx, ty = self._int(-sx, sx + 1, n, x.device), self._int(-sy, sy + 1, n, x.device)
        b, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                   torch.arange(w, device=x.device), indexing="ij")
        gx = torch.clamp(gx + tx + 1, 0, h + 1)
        gy = torch.clamp(gy + ty + 1, 0, w + 1)
        padded = F.pad(x, [1, 1, 1, 1])  # a zero border: shifted-in pixels read it
        return padded.permute(0, 2, 3, 1).contiguous()[b, gx, gy].permute(0, 3, 1, 2)

    def cutout_mask(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        ch, cw = int(h * self.cutout_ratio + 0.5), int(w * self.cutout_ratio + 0.5)
        ox, oy = self._int(0, h + (1 - ch % 2), n, x.device), self._int(0, w + (1 - cw % 2), n, x.device)
        b, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                   torch.arange(cw, device=x.device), indexing="ij")
        gx = torch.clamp(gx + ox - ch // 2, min=0, max=h - 1)
        gy = torch.clamp(gy + oy - cw // 2, min=0, max=w - 1)
        mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
        mask[b, gx, gy] = torch.zeros((), dtype=x.dtype, device=x.device)  # no host scalar: CUDA graphs
        return mask.unsqueeze(1)

    def cutout(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.cutout_mask(x)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.ops:
            if op == "color":
                x = self.contrast(self.saturation(self.brightness(x)))
            else:
                x = getattr(self, op)(x)
        return x.contiguous()


AUGMENTERS = {"classic": ClassicAugment, "diffaugment": DiffAugment}


def make_augment(kind: str, generator: torch.Generator, **args):
    """The augmenter ``kind`` (``"classic"`` or ``"diffaugment"``) with its ``args``, drawing every
    random number from ``generator``: pass the trainer's own (``trainer.gen``), which every
    checkpoint saves, so a resumed run draws the same augmentations as an uninterrupted one."""
    if kind not in AUGMENTERS:
        raise ValueError(f"unknown augmentation {kind!r}; the known ones are {', '.join(sorted(AUGMENTERS))}")
    return AUGMENTERS[kind](generator=generator, **args)
