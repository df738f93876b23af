"""One GAN trainer for unconditional and class-conditional models.

The objective is a loss object from :mod:`labkit.losses` (BCE with optional one-sided label
smoothing, least squares, or WGAN-GP with its gradient penalty and ``d_steps`` critic steps);
``augment`` is any differentiable batch transform (e.g. DiffAugment), applied to real and fake
images in the discriminator step and to fakes in the generator step. Neither needs a new loop.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import nn
from torchvision.utils import make_grid

from labkit.draws import host_random
from labkit.losses import BCELoss
from labkit.runtime import cuda_graphs
from labkit.train.core import Trainer, frozen, linear_decay
from labkit.train.graphs import CapturedStep


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats → uint8 [0, 255]."""
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


class GANTrainer(Trainer):
    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        *,
        loss=None,
        nz: int = 100,
        num_classes: int = 0,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        d_steps: int = 1,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        n_fixed: int | None = None,
        ema: float = 0.0,
        epochs: int | None = None,
        decay_from: float | None = None,
        **core,
    ):
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema is the decay of the generator's moving average, in [0, 1) (0: none); got {ema}")
        if decay_from is not None and not (0 <= decay_from <= 1 and epochs is not None and epochs >= 1):
            raise ValueError(f"a learning-rate decay needs decay_from in [0, 1] and the run's epochs (>= 1); "
                             f"got decay_from={decay_from}, epochs={epochs}")
        models = {"G": G, "D": D}
        if ema:  # a moving average of G's weights draws the samples; it is saved and resumed with the run
            models["G_ema"] = copy.deepcopy(G).requires_grad_(False)
        opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
        super().__init__(models, {"G": opt_g, "D": opt_d}, **core)
        self.G, self.D = self.models["G"], self.models["D"]
        if decay_from is not None:  # both learning rates: constant, then linearly to 0 by the last epoch
            self.schedulers = {k: torch.optim.lr_scheduler.LambdaLR(o, lambda e: linear_decay(e, epochs, decay_from))
                               for k, o in self.optimizers.items()}
        self.ema, self.G_ema = ema, self.models.get("G_ema")
        self.ema_updates = 0  # generator steps averaged so far (the warm-up reads it; saved with the run)
        if self.G_ema is not None:
            self._ema_params = (list(self.G_ema.parameters()), list(self.G.parameters()))
        self.loss = loss or BCELoss()
        self.nz, self.num_classes, self.d_steps = nz, num_classes, d_steps
        self.hidden_in_log = ("d_real",)  # the log shows D(G(z)) and the losses
        # one fixed noise (and, for a conditional model, labels in rows of a class each)
        n_fixed = n_fixed or (10 * num_classes if num_classes else 64)
        self.fixed_z = torch.randn(n_fixed, nz, generator=torch.Generator().manual_seed(1234))
        self.fixed_y = (torch.arange(n_fixed) // max(1, n_fixed // num_classes)).clamp(max=num_classes - 1) if num_classes else None
        self.augment = augment  # (which also decides whether the step replays as a CUDA graph)

    @property
    def augment(self) -> Callable[[torch.Tensor], torch.Tensor]:
        return _identity if self._augment is None else self._augment

    # On a CUDA GPU the step replays as one CUDA graph (labkit.train.graphs) when everything it draws
    # goes through labkit.draws.host_random: by default when it draws only the noise; with
    # LABKIT_CUDA_GRAPHS=all also with DiffAugment's or the gradient penalty's draws. Decided again
    # whenever the augmentation is set (labkit.runs sets it after building the trainer).
    @augment.setter
    def augment(self, fn: Callable[[torch.Tensor], torch.Tensor] | None) -> None:
        self._augment = fn
        graphs = cuda_graphs() if self.device.type == "cuda" and not self.compiled else "off"
        draws_inside = fn is not None or getattr(self.loss, "draws", False)
        taped = fn is None or getattr(fn, "graph_safe", False)  # every draw through host_random
        on = (graphs == "on" and not draws_inside) or (graphs == "all" and taped)
        self.captured = CapturedStep(self._step, self.optimizers.values()) if on else None

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def noise(self, n: int) -> torch.Tensor:
        # drawn on the CPU (the same noise on every device, saved with the run), copied without
        # waiting: a blocking copy would stall the step until the GPU's queue is empty
        return host_random("randn", (n, self.nz), self.device, generator=self.gen)

    def _G(self, z, y=None, net=None):
        net = net or self.G
        return net(z, y) if self.conditional else net(z)

    def _D(self, x, y=None):
        return self.D(x, y) if self.conditional else self.D(x)

    # Discriminator (critic) step: maximise log D(x) + log(1 - D(G(z))) -- or the loss's own
    # objective (least squares; Wasserstein: E[C(x)] - E[C(G(z))] minus the gradient penalty).
    # The fakes are detached: this step moves D only. Fakes carry the real batch's labels.
    # Returns the step's statistics and the fakes, still attached to G's graph when ``keep``
    # (the generator step reuses them: one generator forward per step, as pytorch/examples'
    # dcgan/main.py does).
    def d_step(self, x: torch.Tensor, y: torch.Tensor | None, keep: bool = True) -> tuple[dict, torch.Tensor]:
        with self.autocast(), torch.set_grad_enabled(keep):
            fake = self._G(self.noise(len(x)), y)
        with self.autocast():
            real_out = self._D(self.augment(x), y).float()
            fake_out = self._D(self.augment(fake.detach()), y).float()
            loss_d = self.loss.d_loss(real_out, fake_out)
            # 0 unless the loss has one (WGAN-GP); the critic's pass in the step's precision, the
            # interpolation and the gradient's norm in float32
            penalty = self.loss.penalty(self._D, x, fake.detach().float(), y, y)
        opt = self.optimizers["D"]
        opt.zero_grad(set_to_none=True)
        (loss_d + penalty).backward()
        opt.step()
        real_p, fake_p = self.loss.prob(real_out.detach()), self.loss.prob(fake_out.detach())
        stats = {"loss_d": loss_d.detach(), "d_real": real_p.mean(), "d_fake": fake_p.mean(),
                 # D's accuracy by the loss's own decision rule (a probability of "real" above ½)
                 "d_acc": ((real_p > 0.5).float().mean() + (fake_p <= 0.5).float().mean()) / 2}
        if torch.is_tensor(penalty):
            stats["penalty"] = penalty.detach()
        return stats, fake

    # Generator step: maximise log D(G(z)) (the non-saturating loss; or the loss's own), on the
    # discriminator step's fakes, scored by the updated D and not detached: the gradient flows
    # back through D into G, and only G's optimiser steps. D is frozen while it scores them, so
    # the backward pass computes no gradient for D's weights. Conditional fakes keep their labels.
    def g_step(self, fake: torch.Tensor, y: torch.Tensor | None) -> dict[str, torch.Tensor]:
        with self.autocast(), frozen(self.D):
            out = self._D(self.augment(fake), y).float()
            loss_g = self.loss.g_loss(out)
        opt = self.optimizers["G"]
        opt.zero_grad(set_to_none=True)
        loss_g.backward()
        opt.step()
        return {"loss_g": loss_g.detach()}

    # The averaged generator: G_ema <- d * G_ema + (1 - d) * G after every generator step
    # (Yazici et al. 2019; Karras et al.'s StyleGAN keeps one), batch-norm statistics copied. It
    # draws every sample, grid and score; training never reads it. The decay warms up as
    # TensorFlow's ExponentialMovingAverage does, d = min(ema, (1 + n) / (10 + n)) after n updates:
    # the average never reaches back to the random initial weights, and until n is about
    # 10 / (1 - ema) it spans roughly the last tenth of training.
    def ema_decay(self) -> float:
        return min(self.ema, (1 + self.ema_updates) / (10 + self.ema_updates))

    @torch.no_grad()
    def update_ema(self) -> None:
        torch._foreach_lerp_(self._ema_params[0], self._ema_params[1], 1.0 - self.ema_decay())  # every weight at once
        for avg, b in zip(self.G_ema.buffers(), self.G.buffers()):
            avg.copy_(b)
        self.ema_updates += 1

    def extra_state(self) -> dict:
        return {"ema_updates": self.ema_updates} if self.G_ema is not None else {}

    def load_extra_state(self, state: dict) -> None:
        self.ema_updates = int(state.get("ema_updates", 0))

    def train_step(self, batch):
        """``d_steps`` discriminator steps on this batch, then one generator step on the last
        one's fakes (only that one keeps G's graph), then the moving average of G if there is one
        (on a GPU the steps replay as one CUDA graph, the average's update after it)."""
        x, y = batch
        out = self.captured(x, y) if self.captured is not None else self._step(x, y)
        if self.G_ema is not None:
            self.update_ema()
        return out

    def _step(self, x, y):
        y = y if self.conditional else None
        for k in range(self.d_steps):
            stats, fake = self.d_step(x, y, keep=k == self.d_steps - 1)
        return {**stats, **self.g_step(fake, y)}

    @torch.no_grad()
    def render(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] on the CPU for the noise ``z`` (and, if conditional, ``labels``), from
        the generator in evaluation mode; its training mode is restored afterwards."""
        if self.conditional and (labels is None or len(labels) != len(z)):
            raise ValueError(f"a conditional generator needs {len(z)} labels")
        net = self.G_ema if self.G_ema is not None else self.G
        was = net.training
        net.eval()
        with self.autocast():
            out = self._G(z.to(self.device), labels.to(self.device) if self.conditional else None, net).float().cpu()
        net.train(was)
        return out

    def generate(self, n: int, labels: torch.Tensor | None = None, seed: int = 0, batch_size: int = 500) -> torch.Tensor:
        """``n`` images from fresh noise with its own seed (training's random state is left
        alone); for a conditional model ``labels`` (length ``n``) says each image's class."""
        if self.conditional and (labels is None or len(labels) != n):
            raise ValueError(f"a conditional generator needs {n} labels")
        g = torch.Generator().manual_seed(seed)
        out = []
        for i in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - i), self.nz, generator=g)
            out.append(self.render(z, labels[i : i + len(z)] if self.conditional else None))
        return torch.cat(out)

    def snapshot(self) -> torch.Tensor:
        images = self.render(self.fixed_z, self.fixed_y)
        nrow = max(1, len(images) // self.num_classes) if self.conditional else int(len(images) ** 0.5)
        return to_uint8(make_grid(images, nrow=nrow, padding=2, pad_value=-1))
