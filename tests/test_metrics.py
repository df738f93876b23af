import numpy as np
import pytest
import torch
from torch import nn

from labkit.metrics import (classifier_score, confusion_matrix, fid, fid_numpy, inception_score,
                            inception_score_numpy, per_class_accuracy)


class Lookup(nn.Module):
    """A 'classifier' whose logits and features are fixed per input index (stored in x[:, 0, 0, 0])."""

    def __init__(self, logits, feats):
        super().__init__()
        self.logits, self.feats = logits, feats
        self.dummy = nn.Parameter(torch.zeros(1))

    def _idx(self, x):
        return x[:, 0, 0, 0].round().long()

    def features(self, x):
        return self.feats[self._idx(x)]

    def forward(self, x):
        return self.logits[self._idx(x)]


def images(n):
    return torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def test_inception_score_matches_numpy_formula():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 10, generator=g, dtype=torch.float64) * 3
    clf = Lookup(logits, torch.zeros(200, 4, dtype=torch.float64))
    got = inception_score(clf, images(200), splits=1, name="toy")
    want = inception_score_numpy(torch.softmax(logits, 1).numpy())
    assert got.value == pytest.approx(want, rel=1e-6) and got.n == 200 and got.features == "toy softmax"


def test_inception_score_extremes():
    sure = torch.eye(10, dtype=torch.float64).repeat(10, 1) * 50  # confident and evenly spread
    assert inception_score(Lookup(sure, torch.zeros(100, 2)), images(100), splits=1).value == pytest.approx(10, rel=1e-4)
    one_class = torch.zeros(100, 10, dtype=torch.float64)
    one_class[:, 3] = 50
    assert inception_score(Lookup(one_class, torch.zeros(100, 2)), images(100), splits=1).value == pytest.approx(1, rel=1e-4)
    with pytest.raises(ValueError, match="needs at least 20 images"):
        inception_score(Lookup(sure, torch.zeros(100, 2)), images(10), splits=10)


def test_fid_matches_scipy_on_hand_made_features():
    g = torch.Generator().manual_seed(1)
    real = torch.randn(300, 5, generator=g, dtype=torch.float64)
    fake = torch.randn(300, 5, generator=g, dtype=torch.float64) * 1.5 + 0.7
    clf = Lookup(torch.zeros(600, 3, dtype=torch.float64), torch.cat([real, fake]))
    got = fid(clf, images(300), images(600)[300:], name="toy")
    assert got.value == pytest.approx(fid_numpy(real.numpy(), fake.numpy()), rel=1e-4)
    assert got.features == "toy penultimate features (5-d)" and got.n == 300
    same = fid(clf, images(300), images(300), name="toy")
    assert same.value == pytest.approx(0, abs=1e-6)


def test_fid_refuses_unequal_or_tiny_sets():
    clf = Lookup(torch.zeros(10, 3), torch.randn(10, 2))
    with pytest.raises(ValueError, match="equal sample counts"):
        fid(clf, images(5), images(4))
    with pytest.raises(ValueError, match="at least 2 images"):
        fid(clf, images(1), images(1))


def test_classifier_score_per_class_and_confusion():
    logits = torch.tensor([[5.0, 0, 0], [5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0]])
    clf = Lookup(logits, torch.zeros(4, 1))
    s = classifier_score(clf, images(4), torch.tensor([0, 1, 1, 2]))
    assert s.accuracy == pytest.approx(0.75)
    assert s.confusion.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert s.per_class.tolist() == [1.0, 0.5, 1.0]
    assert s.table(["a", "b", "c"]).loc["b", "recognised"] == 1
    cm = confusion_matrix(torch.tensor([0, 0]), torch.tensor([1, 1]), 3)
    assert per_class_accuracy(cm).tolist() == [0.0, 0.0, 0.0]


def test_fid_meter_reuses_real_features_for_many_sets():
    from labkit.metrics import FID

    g = torch.Generator().manual_seed(2)
    feats = torch.randn(300, 4, generator=g, dtype=torch.float64)
    feats[200:] = feats[200:] * 2 + 1
    clf = Lookup(torch.zeros(300, 3, dtype=torch.float64), feats)
    meter = FID(clf, images(100), name="toy")
    a, b = meter.score(images(200)[100:]), meter.score(images(300)[200:])
    assert a.value == pytest.approx(fid_numpy(feats[:100].numpy(), feats[100:200].numpy()), rel=1e-4)
    assert b.value == pytest.approx(fid_numpy(feats[:100].numpy(), feats[200:].numpy()), rel=1e-4)
    with pytest.raises(ValueError, match="equal sample counts"):
        meter.score(images(50))


def test_inception_score_mean_and_std_over_ten_splits_match_numpy():
    """torchmetrics shuffles with the seed we set, then splits in ten: the same by hand."""
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(300, 8, generator=g, dtype=torch.float64) * 2
    got = inception_score(Lookup(logits, torch.zeros(300, 2)), images(300), splits=10, seed=5)
    torch.manual_seed(5)
    probs = torch.softmax(logits, 1)[torch.randperm(300)].numpy()
    per_split = [inception_score_numpy(chunk) for chunk in np.array_split(probs, 10)]
    assert got.value == pytest.approx(np.mean(per_split), rel=1e-6)
    assert got.std == pytest.approx(np.std(per_split, ddof=1), rel=1e-6)


@pytest.mark.parametrize("channels, side", [(1, 24), (3, 32), (1, 48)])
def test_ssim_matches_torchmetrics_on_textured_images(channels, side):
    """labkit's SSIM per image against torchmetrics' SSIM map (Gaussian window 11, σ 1.5) on the
    images mapped to [0, 1] with data range 1, over the positions where the window lies inside
    the image (Wang et al.'s valid window; torchmetrics also averages over a reflected border)."""
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    from labkit.metrics import ssim

    g = torch.Generator().manual_seed(channels * side)
    x = torch.rand(4, channels, side, side, generator=g, dtype=torch.float64) * 2 - 1
    noise = torch.randn(4, channels, side, side, generator=g, dtype=torch.float64)
    smooth = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    pairs = [
        (0.6 * x + 0.5 * noise).clamp(-1, 1),  # the texture under noise
        0.8 * x - 0.1,  # less contrast, darker: high SSIM
        smooth,  # blurred: structure kept, detail lost
        torch.rand(4, channels, side, side, generator=g, dtype=torch.float64) * 2 - 1,  # unrelated: near 0
    ]
    pad = 5  # (11 - 1) / 2
    for y in pairs:
        _, full = tm_ssim((y + 1) / 2, (x + 1) / 2, data_range=1.0, kernel_size=11, sigma=1.5, gaussian_kernel=True,
                          reduction="none", return_full_image=True)
        want = full[..., pad:-pad, pad:-pad].flatten(1).mean(1)
        got = ssim(x, y)
        assert got.shape == (4,)
        assert torch.allclose(got.double(), want, atol=1e-5), (got, want)
        assert torch.allclose(ssim(y, x).double(), want, atol=1e-5)  # symmetric
    assert ssim(x, pairs[1]).min() > 0.8 and ssim(x, pairs[3]).abs().max() < 0.1


def test_ssim_treats_intensities_as_non_negative():
    """Two mid-grey images 0.02 apart are all but identical (the luminance term on [0, 1]:
    (2·0.505·0.495 + C1) / (0.505² + 0.495² + C1)); on signed values it would be 1/3."""
    from labkit.metrics import ssim

    grey = torch.zeros(2, 1, 16, 16)
    a, b, c1 = 0.505, 0.495, 0.01**2
    assert ssim(grey + 0.01, grey - 0.01).tolist() == pytest.approx([(2 * a * b + c1) / (a * a + b * b + c1)] * 2, rel=1e-6)
    assert ssim(grey + 0.01, grey - 0.01).min() > 0.999
