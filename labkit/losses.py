"""GAN objectives. Each loss is a small object with three methods the GAN trainer calls:

- ``d_loss(real_out, fake_out)``: the discriminator's (or critic's) loss;
- ``g_loss(fake_out)``: the generator's loss;
- ``penalty(D, real, fake, y_real, y_fake)``: an extra discriminator term (0 unless WGAN-GP).

Discriminators return raw scores (logits); sigmoids live inside the losses.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from labkit.draws import host_random


class BCELoss:
    """The original GAN objective as binary cross-entropy, with the non-saturating generator
    loss and one-sided label smoothing: real images are scored against ``real_target``
    (e.g. 0.9) instead of 1; fakes always against 0 (Salimans et al. 2016)."""

    name = "bce"

    def __init__(self, real_target: float = 1.0):
        if not 0.5 < real_target <= 1.0:
            raise ValueError(f"real_target must be in (0.5, 1]; got {real_target}")
        self.real_target = real_target

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        real = F.binary_cross_entropy_with_logits(real_out, torch.full_like(real_out, self.real_target))
        fake = F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out))
        return real + fake

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(fake_out, torch.ones_like(fake_out))

    def penalty(self, *args) -> torch.Tensor | float:
        return 0.0

    @staticmethod
    def prob(out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out)


class LSGANLoss(BCELoss):
    """Least squares (Mao et al. 2017), as CycleGAN uses: D pushes real to ``real_target``
    and fake to 0, G pushes fake to 1."""

    name = "lsgan"

    def d_loss(self, real_out, fake_out):
        return 0.5 * (((real_out - self.real_target) ** 2).mean() + (fake_out**2).mean())

    def g_loss(self, fake_out):
        return 0.5 * ((fake_out - 1) ** 2).mean()

    @staticmethod
    def prob(out):
        return out.clamp(0, 1)


def gradient_penalty(critic: Callable[..., torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     *cond: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's penalty E[(||∇ critic(x̂)||₂ − 1)²] at x̂ = a·real + (1−a)·fake, with one
    interpolation factor ``a`` per sample (not per pixel) and the gradient norm taken over all
    non-batch dimensions (Gulrajani et al. 2017)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have one shape; got {tuple(real.shape)} and {tuple(fake.shape)}")
    a = host_random("rand", (real.shape[0],) + (1,) * (real.ndim - 1), real.device, generator=generator, dtype=real.dtype)
    mixed = (a * real.detach() + (1 - a) * fake.detach()).requires_grad_(True)
    out = critic(mixed, *cond).float()  # in autocast the critic computes in bf16; the gradient is mixed's dtype
    (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


class WGANGPLoss:
    """Wasserstein loss with gradient penalty: the critic maximises E[C(real)] − E[C(fake)],
    the generator maximises E[C(fake)]; ``lambda_gp`` weighs the penalty (10 in the paper)."""

    name = "wgan-gp"
    draws = True  # its penalty draws interpolation weights inside the step (labkit.draws.host_random)

    def __init__(self, lambda_gp: float = 10.0):
        self.lambda_gp = lambda_gp

    def d_loss(self, real_out, fake_out):
        return fake_out.mean() - real_out.mean()

    def g_loss(self, fake_out):
        return -fake_out.mean()

    def penalty(self, critic, real, fake, y_real=None, y_fake=None):
        cond = () if y_real is None else (y_real,)
        return self.lambda_gp * gradient_penalty(critic, real, fake, *cond)

    @staticmethod
    def prob(out):
        return (out > 0).float()


def make_loss(name: str, **kwargs):
    """Build a loss by name: ``"bce"``, ``"lsgan"`` or ``"wgan-gp"``."""
    table = {"bce": BCELoss, "lsgan": LSGANLoss, "wgan-gp": WGANGPLoss}
    if name not in table:
        raise ValueError(f"loss must be one of {sorted(table)}; got {name!r}")
    return table[name](**kwargs)


def weighted_cycle_loss(real: torch.Tensor, recovered: torch.Tensor, D, gamma: float) -> torch.Tensor:
    """Paper 001's weighted cycle loss for one direction, exactly as its formula:

        E_a[ D(a) · ( γ · ‖f_D(F(G(a))) − f_D(a)‖₁ + (1 − γ) · ‖F(G(a)) − a‖₁ ) ]

    with ``real`` = a, ``recovered`` = F(G(a)), ``D`` the discriminator of a's domain, f_D its
    last-layer features (``D.features``) and D(a) its mean score on a, clamped to [0, 1], as a
    per-image weight (a face the discriminator finds unconvincing counts less). The norms are
    means over each image's elements. D(a), f_D(a) are targets (no gradient); the gradient reaches
    the generators through f_D(F(G(a))) and F(G(a)). ``gamma`` moves the comparison from pixels
    (0) to features (1); the paper raises it linearly to 1 over the epochs."""
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1]; got {gamma}")
    if real.shape != recovered.shape:
        raise ValueError(f"real and recovered must have one shape; got {tuple(real.shape)} and {tuple(recovered.shape)}")
    with torch.no_grad():
        weight = D(real).flatten(1).mean(1).clamp(0, 1)
        target = D.features(real) if gamma > 0 else None
    pixel = (recovered - real).abs().flatten(1).mean(1)
    feature = (D.features(recovered) - target).abs().flatten(1).mean(1) if gamma > 0 else torch.zeros_like(pixel)
    return (weight * (gamma * feature + (1 - gamma) * pixel)).mean()
