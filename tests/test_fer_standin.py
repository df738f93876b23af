import pytest
import torch

from labkit.data.fer_standin import CLASSES, COUNTS, make_fer_standin


def test_shapes_range_and_fer_proportions(capsys):
    s = make_fer_standin(7000, seed=0)
    assert "[labkit data] using the FER2013 stand-in drawn by labkit" in capsys.readouterr().out
    assert s.x.shape == (7000, 1, 48, 48) and s.x.min() >= -1 and s.x.max() <= 1 and s.classes == CLASSES
    counts = s.counts()
    assert sum(counts) == 7000
    for got, real in zip(counts, COUNTS):
        assert abs(got / 7000 - real / sum(COUNTS)) < 0.002  # Disgust stays rare (about 1.5%)
    assert counts[1] == min(counts) and counts[3] == max(counts)


def test_seeded_and_varied():
    a, b = make_fer_standin(50, seed=3, quiet=True), make_fer_standin(50, seed=3, quiet=True)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, make_fer_standin(50, seed=4, quiet=True).x)
    assert a.x.flatten(1).std(0).mean() > 0.1  # faces differ from each other
    assert make_fer_standin(20, size=64, quiet=True).x.shape == (20, 1, 64, 64)


def test_label_noise_mislabels_the_asked_fraction():
    clean = make_fer_standin(3000, seed=0, quiet=True)
    assert torch.equal(clean.y, clean.meta["true_labels"])
    noisy = make_fer_standin(3000, seed=0, label_noise=0.1, quiet=True)
    wrong = (noisy.y != noisy.meta["true_labels"]).float().mean().item()
    assert 0.08 < wrong < 0.12
    # wrong labels follow the class sizes: Disgust stays as rare as in FER2013 (1.5%)
    assert abs(noisy.counts()[1] - clean.counts()[1]) <= 10
    assert noisy.counts()[1] / len(noisy) < 0.02


def test_learnable_but_not_trivial():
    from sklearn.linear_model import LogisticRegression

    s = make_fer_standin(4000, seed=1, quiet=True)
    train, test = s.split(0.75, seed=0)
    feats = lambda d: torch.nn.functional.avg_pool2d(d.x, 2).flatten(1).numpy()  # noqa: E731
    acc = LogisticRegression(max_iter=300, C=0.05).fit(feats(train), train.y.numpy()).score(feats(test), test.y.numpy())
    majority = max(test.counts()) / len(test)
    assert majority + 0.15 < acc < 0.9


def test_expressions_live_in_the_mouth():
    """Happy faces are darker than sad ones just below the mouth's middle (a smile's dip) and
    lighter at its corners' height, on average over identities."""
    s = make_fer_standin(3000, seed=2, quiet=True)
    happy, sad = s.of_class(3).mean(0)[0], s.of_class(4).mean(0)[0]
    middle = (happy - sad)[36:39, 21:27].mean()
    assert middle < -0.02


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be at least 7"):
        make_fer_standin(3)
    with pytest.raises(ValueError, match="label_noise must be in"):
        make_fer_standin(100, label_noise=1.0)
