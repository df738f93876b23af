"""Figures for the chapters (matplotlib + seaborn). Every function draws on an ``ax`` if
given, else on a new figure, and returns the axes, so chapters can compose panels."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid


def _ax(ax, size=(5, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def show_images(images: torch.Tensor, nrow: int = 10, title: str | None = None, ax=None, size: float = 5):
    """A grid of images in [-1, 1] (or a uint8 grid already made)."""
    ax = _ax(ax, (size, size))
    grid = images if images.dtype == torch.uint8 and images.ndim == 3 else make_grid(
        images.float().clamp(-1, 1).cpu(), nrow=nrow, padding=2, pad_value=0, normalize=True, value_range=(-1, 1))
    arr = grid.permute(1, 2, 0).numpy()
    ax.imshow(arr[..., 0] if arr.shape[2] in (1, 3) and (arr[..., 0] == arr[..., -1]).all() else arr,
              cmap="gray", vmin=0, vmax=255 if grid.dtype == torch.uint8 else 1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_curves(curves: dict[str, Sequence[float]], title: str | None = None, xlabel: str = "epoch",
                ylabel: str | None = None, ax=None, smooth: int = 1, x: Sequence[float] | None = None):
    """Lines, one per named series; ``smooth`` > 1 draws a running mean (for per-step losses)."""
    ax = _ax(ax, (6, 3.5))
    for name, ys in curves.items():
        ys = np.asarray(ys, dtype=float)
        if smooth > 1 and len(ys) >= smooth:
            ys = np.convolve(ys, np.ones(smooth) / smooth, mode="valid")
        xs = np.asarray(x[: len(ys)]) if x is not None else np.arange(1, len(ys) + 1)
        ax.plot(xs, ys, label=name)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_history(history: list[dict[str, float]], keys: Sequence[str], title: str | None = None, ax=None, ylabel=None):
    """Per-epoch values from a trainer's ``history``."""
    return plot_curves({k: [h[k] for h in history] for k in keys}, title=title, ax=ax, ylabel=ylabel,
                       x=[h["epoch"] for h in history])


def confusion_heatmap(cm: np.ndarray, classes: Sequence[str], title: str | None = None, normalize: bool = True,
                      ax=None, xlabel: str = "predicted", ylabel: str = "true"):
    """A seaborn heatmap of a confusion matrix, rows normalised to fractions by default."""
    import seaborn as sns

    ax = _ax(ax, (5.5, 4.5))
    data = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    sns.heatmap(data, annot=True, fmt=".2f" if normalize else "d", cmap="Blues", cbar=False, ax=ax,
                xticklabels=classes, yticklabels=classes, annot_kws={"fontsize": 7}, vmin=0, vmax=1 if normalize else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def class_distribution(counts: Sequence[int], classes: Sequence[str], title: str | None = None, ax=None,
                       reference: Sequence[int] | None = None, reference_label: str = "paper reported"):
    """Bars of images per class, optionally beside reference counts."""
    ax = _ax(ax, (6, 3))
    xs = np.arange(len(classes))
    w = 0.4 if reference is not None else 0.8
    bars = ax.bar(xs - (w / 2 if reference is not None else 0), counts, width=w, label="this data")
    ax.bar_label(bars, fontsize=7)
    if reference is not None:
        ax.bar(xs + w / 2, reference, width=w, label=reference_label, alpha=0.6)
        ax.legend(fontsize="small")
    ax.set_xticks(xs, classes)
    ax.set_ylabel("images")
    if title:
        ax.set_title(title)
    return ax


def pca_scatter(points: torch.Tensor, labels: torch.Tensor, classes: Sequence[str], title: str | None = None, ax=None):
    """A 2-D scatter coloured by class, labelled at each class's centre."""
    import seaborn as sns

    ax = _ax(ax, (5.5, 5))
    palette = sns.color_palette("tab10", len(classes))
    p, y = points.numpy(), labels.numpy()
    for c, name in enumerate(classes):
        m = y == c
        ax.scatter(p[m, 0], p[m, 1], s=4, alpha=0.5, color=palette[c], label=name)
        if m.any():
            ax.text(*p[m].mean(0), name, fontsize=12, weight="bold", ha="center", va="center")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    if title:
        ax.set_title(title)
    return ax


def mean_std(df, x: str, y: str, group: str | None = None, title: str | None = None, ax=None, ylabel=None):
    """Mean ± standard deviation of ``y`` over repeated runs (e.g. seeds) against ``x``."""
    ax = _ax(ax, (6, 3.5))
    groups = [(None, df)] if group is None else list(df.groupby(group))
    for name, part in groups:
        stats = part.groupby(x)[y].agg(["mean", "std", "count"]).reset_index()
        ax.errorbar(stats[x], stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=3,
                    label=None if name is None else f"{group}={name}")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel or y)
    if group is not None:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def gan_overview(trainer, title: str):
    """One row for a trained GAN: its losses and the discriminator's mean outputs per step
    (smoothed), and the fixed-noise grid after the last epoch."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 3.8), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    steps = trainer.steps
    plot_curves({"D": steps["loss_d"], "G": steps["loss_g"]}, f"{title}: losses", xlabel="step", smooth=10, ax=axes[0])
    plot_curves({"D(x)": steps["d_real"], "D(G(z))": steps["d_fake"]}, f"{title}: discriminator outputs",
                xlabel="step", smooth=10, ax=axes[1])
    show_images(trainer.snapshots[-1], nrow=6, title=f"fixed noise after epoch {trainer.snapshot_epochs[-1]}",
                ax=axes[2], size=4)
    plt.tight_layout()
    plt.show()


def grouped_bars(means, errors=None, title: str | None = None, ax=None, ylabel: str | None = None,
                 percent: bool = True):
    """Bars for a table: one group per row of ``means`` (a DataFrame), one bar per column, with
    ``errors`` (same shape, e.g. the standard deviation over seeds) as error bars."""
    ax = _ax(ax, (7, 3.5))
    rows, cols = list(means.index), list(means.columns)
    xs = np.arange(len(rows))
    w = 0.8 / max(1, len(cols))
    scale = 100 if percent else 1
    for i, col in enumerate(cols):
        err = None if errors is None else scale * np.nan_to_num(errors[col].to_numpy(dtype=float))
        ax.bar(xs - 0.4 + w * (i + 0.5), scale * means[col].to_numpy(dtype=float), width=w, yerr=err, capsize=2,
               label=str(col))
    ax.set_xticks(xs, [str(r) for r in rows], rotation=20, ha="right")
    ax.set_ylabel(ylabel or ("%" if percent else ""))
    ax.grid(axis="y", alpha=0.3)
    if len(cols) > 1:
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def save_gif(frames: Sequence[torch.Tensor], path: str | Path, seconds_per_frame: float = 0.4, scale: int = 2) -> Path:
    """Write uint8 CHW frames (e.g. a trainer's per-epoch snapshots) as a looping GIF."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames to animate (train at least one epoch)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = []
    for f in frames:
        arr = f.permute(1, 2, 0).numpy()
        img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
        images.append(img.resize((img.width * scale, img.height * scale), Image.NEAREST))
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(seconds_per_frame * 1000), loop=0)
    return path


def animation(frames: Sequence[torch.Tensor], path: str | Path, **kwargs):
    """Save the GIF and return an object that shows it in a notebook (and in the book)."""
    from IPython.display import Image as IPImage

    return IPImage(filename=str(save_gif(frames, path, **kwargs)))


def png_bytes(images: torch.Tensor, nrow: int = 10, scale: int = 3) -> bytes:
    """A grid of [-1, 1] images as PNG bytes (for widgets)."""
    from PIL import Image

    grid = make_grid(images.float().clamp(-1, 1).cpu(), nrow=nrow, padding=2, pad_value=0, normalize=True, value_range=(-1, 1))
    arr = (grid[0] * 255).round().byte().numpy()
    img = Image.fromarray(arr).resize((arr.shape[1] * scale, arr.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
