"""ipywidgets views for exploring trained generators in JupyterLab or Colab.

In a static page (the book) widgets cannot run, so each chapter also shows a still figure of
what the widget shows.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from labkit.plots import png_bytes


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical interpolation between two noise vectors (stays on the Gaussian shell)."""
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    a, b = z0 / z0.norm(), z1 / z1.norm()
    omega = torch.acos((a * b).sum().clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * z0 + (torch.sin(t * omega) / so) * z1


def latent_walk(generate: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor], nz: int,
                classes: Sequence[str] | None, seed_a: int, seed_b: int, label: int | None, steps: int = 9) -> torch.Tensor:
    """Images along the path from noise ``seed_a`` to ``seed_b`` (for one class if conditional)."""
    z0 = torch.randn(nz, generator=torch.Generator().manual_seed(seed_a))
    z1 = torch.randn(nz, generator=torch.Generator().manual_seed(seed_b))
    z = interpolate(z0, z1, steps)
    y = torch.full((steps,), int(label), dtype=torch.long) if classes is not None and label is not None else None
    return generate(z, y)


def latent_explorer(generate: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor], nz: int,
                    classes: Sequence[str] | None = None, steps: int = 9):
    """A widget: pick a class (for a conditional generator) and two noise seeds, and see the
    images along the path between them; the slider picks one image to show large."""
    import ipywidgets as w

    cls = w.Dropdown(options=[(c, i) for i, c in enumerate(classes)], description="class") if classes else None
    seed_a = w.IntSlider(0, 0, 999, description="seed A")
    seed_b = w.IntSlider(1, 0, 999, description="seed B")
    pos = w.IntSlider(steps // 2, 0, steps - 1, description="step")
    strip, big = w.Image(format="png"), w.Image(format="png")

    def update(*_):
        images = latent_walk(generate, nz, classes, seed_a.value, seed_b.value, cls.value if cls else None, steps)
        strip.value = png_bytes(images, nrow=steps, scale=2)
        big.value = png_bytes(images[pos.value : pos.value + 1], nrow=1, scale=8)

    for control in [c for c in (cls, seed_a, seed_b, pos) if c is not None]:
        control.observe(update, names="value")
    update()
    controls = [c for c in (cls, seed_a, seed_b, pos) if c is not None]
    return w.VBox([w.HBox([w.VBox(controls), big]), strip])
