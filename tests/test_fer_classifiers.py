import pytest
import torch

from labkit.models import SimpleFERNet, SurrealFERNet, count_params

# paper 001, "Simple Classifier - Architecture": (layer, output shape HWC, Keras params)
TABLE = [
    ("conv", (46, 46, 64), 640), ("conv", (46, 46, 64), 36928), ("bn", (46, 46, 64), 256),
    ("pool", (23, 23, 64), 0),
    ("conv", (23, 23, 128), 73856), ("bn", (23, 23, 128), 512), ("conv", (23, 23, 128), 147584), ("bn", (23, 23, 128), 512),
    ("pool", (11, 11, 128), 0),
    ("conv", (11, 11, 256), 295168), ("bn", (11, 11, 256), 1024), ("conv", (11, 11, 256), 590080), ("bn", (11, 11, 256), 1024),
    ("pool", (5, 5, 256), 0),
    ("conv", (5, 5, 512), 1180160), ("bn", (5, 5, 512), 2048), ("conv", (5, 5, 512), 2359808), ("bn", (5, 5, 512), 2048),
    ("pool", (2, 2, 512), 0),
    ("dense", (512,), 1049088), ("dense", (256,), 131328), ("dense", (128,), 32896), ("dense", (7,), 903),
]
KINDS = {"conv": torch.nn.Conv2d, "bn": torch.nn.BatchNorm2d, "pool": torch.nn.MaxPool2d, "dense": torch.nn.Linear}


def test_simple_classifier_totals_are_the_papers():
    c = count_params(SimpleFERNet())
    assert (c["keras"], c["torch"], c["keras_non_trainable"]) == (5_905_863, 5_902_151, 3_712)


def test_simple_classifier_matches_the_layer_table():
    model = SimpleFERNet().eval()
    seen = []
    for m in model.modules():
        for kind, cls in KINDS.items():
            if isinstance(m, cls):
                m.register_forward_hook(lambda mod, i, out, kind=kind: seen.append((kind, tuple(out.shape[1:]), mod)))
    model(torch.zeros(2, 1, 48, 48))
    assert len(seen) == len(TABLE)
    for (kind, shape, mod), (want_kind, want_hwc, want_params) in zip(seen, TABLE):
        chw = want_hwc if len(want_hwc) == 1 else (want_hwc[2], want_hwc[0], want_hwc[1])
        assert (kind, shape) == (want_kind, chw)
        assert count_params(mod)["keras"] == want_params


@pytest.mark.parametrize("size", [28, 48, 64, 100])
def test_classifiers_take_other_sizes_and_channels(size):
    x = torch.zeros(2, 3, size, size)
    for model in (SimpleFERNet(in_channels=3, image_size=size), SurrealFERNet(in_channels=3, image_size=size)):
        assert model(x).shape == (2, 7) and model.features(x).shape[0] == 2
    with pytest.raises(ValueError, match="too small"):
        SimpleFERNet(image_size=16)


def test_surreal_classifier_shapes():
    model = SurrealFERNet()
    assert model.body(torch.zeros(1, 1, 48, 48)).shape == (1, 128 * 12 * 12)
    assert count_params(model)["torch"] == 640 + 73856 + (128 * 144 * 256 + 256) + (256 * 256 + 256) + (256 * 7 + 7)
