import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from labkit import plots
from labkit.widgets import interpolate, latent_explorer, latent_walk


def test_figures_draw_what_they_are_given(tmp_path):
    ax = plots.plot_curves({"a": [1, 2, 3, 4], "b": [4, 3, 2, 1]}, smooth=2)
    assert [l.get_label() for l in ax.get_lines()] == ["a", "b"] and len(ax.get_lines()[0].get_xdata()) == 3
    ax = plots.plot_history([{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0}], ["loss"])
    assert list(ax.get_lines()[0].get_ydata()) == [2.0, 1.0]
    ax = plots.confusion_heatmap(np.array([[3, 1], [0, 4]]), ["x", "y"])
    assert [t.get_text() for t in ax.texts] == ["0.75", "0.25", "0.00", "1.00"]
    ax = plots.class_distribution([5, 7], ["x", "y"], reference=[6, 6])
    assert [p.get_height() for p in ax.patches] == [5, 7, 6, 6]
    ax = plots.pca_scatter(torch.randn(20, 2), torch.arange(20) % 2, ["x", "y"])
    assert len(ax.collections) == 2
    df = pd.DataFrame({"f": [0.1, 0.1, 1.0, 1.0], "acc": [0.9, 0.8, 1.0, 1.0]})
    ax = plots.mean_std(df, "f", "acc")
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx([0.85, 1.0])
    ax = plots.show_images(torch.zeros(4, 1, 8, 8), nrow=2)
    assert ax.images[0].get_array().shape == (2 * 10 + 2, 22)
    plt.close("all")


def test_gif_has_one_frame_per_snapshot(tmp_path):
    frames = [torch.full((1, 10, 12), v, dtype=torch.uint8) for v in (0, 120, 255)]
    path = plots.save_gif(frames, tmp_path / "a.gif", scale=2)
    with Image.open(path) as im:
        assert im.n_frames == 3 and im.size == (24, 20)
    with pytest.raises(ValueError, match="no frames"):
        plots.save_gif([], tmp_path / "b.gif")


def test_interpolation_ends_at_both_seeds_and_widget_builds():
    z0, z1 = torch.randn(8), torch.randn(8)
    path = interpolate(z0, z1, 5)
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    seen = []

    def gen(z, y):
        seen.append(y)
        return torch.tanh(z[:, :4].view(-1, 1, 2, 2))

    assert latent_walk(gen, 8, ["a", "b"], 0, 1, 1, steps=3).shape == (3, 1, 2, 2)
    assert seen[-1].tolist() == [1, 1, 1]
    box = latent_explorer(gen, 8, ["a", "b"], steps=3)
    big = box.children[0].children[1]
    assert big.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_grouped_bars_and_gan_overview():
    means = pd.DataFrame({"a": [0.5, 0.25], "b": [1.0, 0.75]}, index=["x", "y"])
    errors = pd.DataFrame({"a": [0.1, np.nan], "b": [0.0, 0.05]}, index=["x", "y"])
    ax = plots.grouped_bars(means, errors)
    assert [p.get_height() for p in ax.patches] == pytest.approx([50, 25, 100, 75])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y"]

    class Run:  # what gan_overview reads from a GANTrainer
        steps = {"loss_d": [1.0] * 12, "loss_g": [2.0] * 12, "d_real": [0.9] * 12, "d_fake": [0.1] * 12}
        snapshots = [torch.zeros(3, 10, 10, dtype=torch.uint8)]
        snapshot_epochs = [4]

    plt.close("all")
    plots.gan_overview(Run(), "toy")
    fig = plt.gcf()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["toy: losses", "toy: discriminator outputs", "fixed noise after epoch 4"]
    assert list(fig.axes[1].get_lines()[0].get_ydata()) == pytest.approx([0.9] * 3)  # smoothed over 10 steps
