import numpy as np
import pytest
import torch

from labkit.augment import ClassicAugment
from labkit.metrics import per_class_report
from labkit.models import Paper000CNN, Paper000Discriminator, Paper000Generator


def test_generator_blocks_end_at_48_pixels():
    G = Paper000Generator(channels=3)
    sizes = []
    x = G.dense(torch.randn(2, 100)).view(-1, 1, 8, 8)
    for m in G.blocks:
        x = m(x)
        if isinstance(m, torch.nn.Conv2d):
            sizes.append(x.shape[-1])
    assert sizes == [11, 17, 29, 53, 48]  # 8 -> up -> conv6 ... -> conv6 (no upsampling last)
    out = G(torch.randn(4, 100))
    assert out.shape == (4, 3, 48, 48) and out.abs().max() <= 1
    assert G.dense[0].out_features == G.dense[2].out_features == 64


def test_discriminator_scores_each_image_and_checks_size():
    D = Paper000Discriminator(channels=1)
    assert D(torch.randn(5, 1, 48, 48)).shape == (5,)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in D.net) == 4
    assert not isinstance(D.net[-1], (torch.nn.BatchNorm2d, torch.nn.Tanh))  # the last block: convolution only
    with pytest.raises(ValueError, match="48x48"):
        D(torch.randn(1, 1, 28, 28))


@pytest.mark.parametrize("size, channels", [(28, 1), (48, 1), (64, 3), (100, 3)])
def test_cnn_feeds_1024_features_to_seven_classes(size, channels):
    model = Paper000CNN(in_channels=channels, image_size=size)
    x = torch.randn(2, channels, size, size)
    assert model.features(x).shape == (2, 1024) and model(x).shape == (2, 7)
    kernels = {m.kernel_size[0] for m in model.modules() if isinstance(m, torch.nn.Conv2d)}
    assert kernels == {3, 5}


def test_classic_augment_flip_zoom_shear():
    x = torch.arange(16.0).view(1, 1, 4, 4).repeat(3, 1, 1, 1)
    assert torch.allclose(ClassicAugment(flip=0, zoom=0, shear=0)(x), x, atol=1e-5)
    flipped = ClassicAugment(flip=1, zoom=0, shear=0)(x)
    assert torch.allclose(flipped, x.flip(-1), atol=1e-5)
    aug = ClassicAugment(flip=0.5, zoom=0.2, shear=10, generator=torch.Generator().manual_seed(0))
    theta = aug.matrices(2000)
    scale = 1 / theta[:, 1, 1]
    assert 0.8 <= scale.min() and scale.max() <= 1.2 and (scale.max() - scale.min()) > 0.35
    shear_deg = torch.rad2deg(torch.atan(theta[:, 0, 1] * scale))
    assert shear_deg.abs().max() <= 10 + 1e-4
    assert 0.45 < (theta[:, 0, 0] < 0).float().mean() < 0.55
    out = aug(torch.randn(8, 1, 48, 48))
    assert out.shape == (8, 1, 48, 48)
    with pytest.raises(ValueError, match="zoom must be in"):
        ClassicAugment(zoom=1.5)


def test_per_class_report_in_paper_001s_form():
    cm = np.array([[262, 229], [22, 33]])
    text = per_class_report(cm, ["Angry", "Disgust"])
    assert text.splitlines() == [
        "Accuracy of the network on the 546 test images: 54.03 %",
        "Accuracy of Angry : 53 % of 262 / 491 total",
        "Accuracy of Disgust : 60 % of 33 / 55 total",
    ]
