"""Paper 002's pieces: DiffAugment, the Fruits-360 loader and stand-in, and the chapter's measures."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

from labkit.augment import DiffAugment
from labkit.data.fruits360 import fruit_of, load_fruits360
from labkit.data.fruits_standin import VARIETIES, make_fruits_standin
from labkit.experiments import fruits as ch
from tests.conftest import SHARED_DATA


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# --- DiffAugment ------------------------------------------------------------------------------

def test_brightness_adds_one_offset_per_image_within_half():
    aug = DiffAugment("color", generator=gen())
    x = torch.zeros(500, 3, 4, 4)
    out = aug.brightness(x)
    per_image = out.flatten(1)
    assert torch.equal(per_image, per_image[:, :1].expand_as(per_image))  # one offset per image
    assert per_image.min() >= -0.5 and per_image.max() < 0.5 and per_image.std() > 0.25  # U(-0.5, 0.5): std 0.29


def test_saturation_scales_each_pixels_spread_across_channels():
    """Zhao et al.'s rand_saturation: x_mean = the mean over channels (per pixel); x = (x − x_mean)
    × factor + x_mean, factor ~ U(0, 2) per image. Three pixels with different channel means and
    spreads tell it from contrast (which would move the grey pixel and scale about the image mean)."""
    aug = DiffAugment("color", generator=gen(1))
    x = torch.zeros(400, 3, 1, 3)
    x[:, :, 0, 0] = torch.tensor([0.5, 0.3, 0.1])  # channel mean 0.3, deviations ±0.2
    x[:, :, 0, 1] = -0.2  # grey: no deviation, saturation leaves it alone
    x[:, :, 0, 2] = torch.tensor([0.9, -0.9, 0.0])  # channel mean 0, deviations ±0.9
    out = aug.saturation(x)
    f = (out[:, 0, 0, 0] - 0.3) / 0.2  # each image's factor, read off one value
    want = torch.zeros_like(x)
    for i in range(len(x)):
        want[i, :, 0, 0] = torch.tensor([0.3 + 0.2 * f[i], 0.3, 0.3 - 0.2 * f[i]])
        want[i, :, 0, 1] = -0.2
        want[i, :, 0, 2] = torch.tensor([0.9 * f[i], -0.9 * f[i], 0.0])
    assert torch.allclose(out, want, atol=1e-6)
    assert f.min() >= 0 and f.max() < 2 and f.max() > 1.8 and f.min() < 0.2  # U(0, 2), per image
    assert 0.9 < f.mean() < 1.1 and 0.5 < f.std() < 0.65  # U(0, 2): mean 1, std 0.577


def test_contrast_scales_deviations_from_the_image_mean():
    aug = DiffAugment("color", generator=gen(1))
    y = torch.zeros(400, 1, 2, 2)
    y[:, :, 0] = 0.4
    y[:, :, 1] = -0.4  # image mean 0, deviations ±0.4
    c = aug.contrast(y)[:, 0, 0, 0] / 0.4
    assert c.min() >= 0.5 and c.max() < 1.5 and c.min() < 0.6 and c.max() > 1.4


def test_translation_shifts_by_at_most_an_eighth_with_zero_fill():
    aug = DiffAugment("translation", generator=gen(2))
    x = torch.zeros(300, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one bright pixel in the middle
    out = aug.translation(x)
    pos = out.flatten(1).argmax(1)
    dy, dx = pos // 16 - 8, pos % 16 - 8
    assert out.flatten(1).sum(1).eq(1).all()  # the pixel is moved, never lost or doubled
    assert dy.abs().max() == 2 and dx.abs().max() == 2  # 16 / 8 = 2, both extremes drawn
    ones = aug.translation(torch.ones(200, 1, 16, 16))
    zero_rows = (ones == 0).flatten(1).sum(1)
    assert zero_rows.max() > 0 and ((ones == 0) | (ones == 1)).all()  # shifted-in border is zeros


def test_cutout_zeroes_one_square_of_half_the_side():
    aug = DiffAugment("cutout", generator=gen(3))
    mask = aug.cutout_mask(torch.ones(500, 3, 16, 16))[:, 0]
    zeros = (mask == 0).flatten(1).sum(1)
    assert zeros.max() == 64 and zeros.min() >= 16  # 8×8 when inside; clipped at a border, at least a quarter
    for m in mask[:20]:
        rows, cols = torch.nonzero(m == 0, as_tuple=True)
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert box == len(rows)  # one solid rectangle


def test_diffaugment_passes_gradients_and_is_reproducible():
    x = (torch.rand(6, 3, 16, 16) * 2 - 1).requires_grad_()
    out = DiffAugment(generator=gen(4))(x)
    (out * torch.randn_like(out)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(DiffAugment(generator=gen(4))(x.detach()), DiffAugment(generator=gen(4))(x.detach()))
    with pytest.raises(ValueError, match="unknown \\['flip'\\]"):
        DiffAugment("color,flip")


# --- Fruits-360 loader ---------------------------------------------------------------------------

def _jpg(path, size=(100, 100), colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


@pytest.fixture
def fruits_root(tmp_path):
    root = tmp_path / "fruits-360"
    for split in ("Training", "Test"):
        for cls, n in (("Apple Red 1", 3), ("Apple Golden 1", 2), ("Banana", 2), ("Grape White", 1),
                       ("Grapefruit Pink", 2), ("Tomato 1", 2), ("Kiwi", 1)):
            for i in range(n):
                _jpg(root / split / cls / f"{i}_100.jpg")
    return root


def test_loader_groups_by_first_word_and_keeps_varieties(fruits_root):
    s = load_fruits360(fruits_root, quiet=True)
    assert s.classes == ["Apple", "Banana", "Grape", "Tomato"] and s.counts() == [5, 2, 1, 2]
    assert "Grapefruit Pink" not in s.meta["varieties"] and fruit_of("Grapefruit Pink") == "Grapefruit"
    assert s.x.shape == (10, 3, 100, 100) and s.x.min() >= -1 and s.x.max() <= 1
    v = load_fruits360(fruits_root, "Test", group=False, size=32, quiet=True)
    assert v.classes == s.meta["varieties"] and v.x.shape == (10, 3, 32, 32)
    only = load_fruits360(fruits_root, classes=["Kiwi", "Banana"], group=False, quiet=True)
    assert only.classes == ["Kiwi", "Banana"] and only.counts() == [1, 2]


def test_loader_caches_and_rereads_a_changed_copy(fruits_root, tmp_path):
    first = load_fruits360(fruits_root, quiet=True)
    assert len(list((tmp_path / "cache").glob("fruits360-*.pt"))) == 1
    assert torch.equal(load_fruits360(fruits_root, quiet=True).x, first.x)
    _jpg(fruits_root / "Training" / "Banana" / "0_100.jpg", colour=(250, 250, 0))
    changed = load_fruits360(fruits_root, quiet=True)
    assert not torch.equal(changed.x, first.x) and len(list((tmp_path / "cache").glob("fruits360-*.pt"))) == 2


def test_loader_errors_name_the_problem(fruits_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*data_dir=None"):
        load_fruits360(tmp_path / "nowhere")
    (tmp_path / "bare").mkdir()
    with pytest.raises(FileNotFoundError, match="no Training/ folder"):
        load_fruits360(tmp_path / "bare")
    with pytest.raises(ValueError, match="no Fruits-360 class starts with \\['Mango'\\]"):
        load_fruits360(fruits_root, fruits=["Apple", "Mango"])
    with pytest.raises(ValueError, match="unknown Fruits-360 classes \\['Apple Pink'\\]"):
        load_fruits360(fruits_root, classes=["Apple Pink"])
    _jpg(fruits_root / "Training" / "Banana" / "big.jpg", size=(120, 100))
    with pytest.raises(ValueError, match="big.jpg: expected a 100x100 image .*got 120x100"):
        load_fruits360(fruits_root)
    (fruits_root / "Training" / "Banana" / "big.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(ValueError, match="big.jpg: unreadable image"):
        load_fruits360(fruits_root)
    (fruits_root / "Training" / "Banana" / "big.jpg").unlink()
    (fruits_root / "Training" / "Banana" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="notes.txt: not a .jpg or .png image"):
        load_fruits360(fruits_root)
    (fruits_root / "Training" / "Banana" / "notes.txt").unlink()
    (fruits_root / "Training" / "Tomato 2").mkdir()
    with pytest.raises(ValueError, match="Tomato 2: the class 'Tomato 2' has no images"):
        load_fruits360(fruits_root)
    with pytest.raises(ValueError, match="size must be in \\[8, 100\\]"):
        load_fruits360(fruits_root, size=128)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "fruits-360").exists(), reason="../shared/data/fruits-360 is absent")
def test_real_fruits360_classes_and_counts():
    train = load_fruits360(SHARED_DATA / "fruits-360", "Training", size=32, quiet=True)
    test = load_fruits360(SHARED_DATA / "fruits-360", "Test", size=32, quiet=True)
    assert len(train.meta["varieties"]) == 29 and len(train) == 15_210 and len(test) == 5_089
    assert dict(zip(train.classes, train.counts())) == {"Apple": 6416, "Banana": 1430, "Grape": 3419, "Tomato": 3945}
    assert {fruit_of(v) for v in train.meta["varieties"]} == {"Apple", "Banana", "Grape", "Tomato"}


# --- the stand-in -------------------------------------------------------------------------------

def test_standin_proportions_background_and_seed():
    s = make_fruits_standin(400, seed=0, quiet=True)
    assert s.classes == ["Apple", "Banana", "Grape", "Tomato"] and sum(s.counts()) == 400
    assert s.counts() == [168, 38, 90, 104]  # 6416 : 1430 : 3419 : 3945 (Fruits-360 Training), rounded
    assert s.x.shape == (400, 3, 100, 100) and s.x.min() >= -1 and s.x.max() <= 1
    corners = s.x[:, :, :4, :4]
    assert corners.mean() > 0.9  # white background, as Fruits-360 cuts fruits out onto white
    centre = s.x[:, :, 45:55, 45:55].mean((2, 3))
    assert (centre.mean(1) < 0.7).float().mean() > 0.95  # a fruit in the middle of almost every image
    assert torch.equal(make_fruits_standin(40, seed=3, quiet=True).x, make_fruits_standin(40, seed=3, quiet=True).x)
    v = make_fruits_standin(60, seed=0, size=32, group=False, quiet=True)
    assert v.x.shape[-1] == 32 and set(v.classes) <= set(VARIETIES)
    with pytest.raises(ValueError, match="the stand-in draws"):
        make_fruits_standin(100, fruits=["Mango"])


def test_standin_fruits_differ_in_colour_and_shape():
    s = make_fruits_standin(800, seed=1, size=32, quiet=True)
    fg = (s.x.mean(1) < 0.8).float()  # fruit pixels
    area = fg.flatten(1).mean(1)
    by = {c: area[s.y == i].mean().item() for i, c in enumerate(s.classes)}
    assert by["Banana"] < 0.5 * by["Apple"]  # a thin crescent against a round fruit
    on_fruit = fg.bool()
    yellow = {}  # (red + green) / 2 − blue on the fruit's pixels
    for i, c in enumerate(s.classes):
        x, m = s.x[s.y == i], on_fruit[s.y == i]
        yellow[c] = ((x[:, 0][m] + x[:, 1][m]) / 2 - x[:, 2][m]).mean().item()
    assert yellow["Banana"] > 0.4 and yellow["Grape"] < 0.25  # yellow bananas; blue, pink and white grapes


# --- the chapter's measures ---------------------------------------------------------------------

def test_epochs_for_small_sets_and_tiling():
    assert ch.epochs_for(843, 32, 12, 300) == 12  # 26 steps per epoch × 12 = 312 ≥ 300
    assert ch.epochs_for(188, 32, 12, 300) == 60  # 5 steps per epoch
    assert ch.epochs_for(1430, 64, 50, 0) == 50  # the paper profile: epochs only
    s = make_fruits_standin(40, seed=0, size=32, quiet=True)
    part = ch.fraction(s, 0.25, seed=0)
    assert len(part) == 10
    t = ch.tiled(part, 40)
    assert len(t) == 40 and torch.equal(t.x[10:20], part.x) and t.fingerprint() != part.fingerprint()
    with pytest.raises(ValueError, match="in \\(0, 1\\]"):
        ch.fraction(s, 0)


def test_diversity_and_collapse_on_hand_made_values():
    assert ch.diversity(torch.zeros(5, 3)) == 0
    pts = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert ch.diversity(pts) == pytest.approx(5.0)
    three = torch.tensor([[0.0], [1.0], [3.0]])  # distances 1, 3, 2 → mean 2
    assert ch.diversity(three) == pytest.approx(2.0)
    hist = [{"epoch": e, "diversity": d} for e, d in enumerate([0.05, 0.3, 0.7, 0.2, 0.4, 0.9], start=1)]
    c = ch.collapse(hist, 0.5)
    assert c["first epoch at threshold"] == 3 and c["epochs below after it"] == [4, 5]
    assert c["lowest after it"] == 0.2 and c["at epoch"] == 4 and c["final"] == 0.9
    never = ch.collapse([{"epoch": 1, "diversity": 0.1}], 0.5)
    assert never["first epoch at threshold"] is None and math.isnan(never["lowest after it"])
    with pytest.raises(ValueError, match="no diversity"):
        ch.collapse([{"epoch": 1}])


@pytest.mark.slow
def test_fruit_gan_learns_and_records_diversity():
    """A quick DiffAugment DCGAN on stand-in tomatoes moves far closer to real tomatoes (FID on
    a fruit classifier) than its untrained start, and its samples become varied."""
    P = ch.SPEC.resolve({"n_standin": 1000})
    train, test = ch.load(P)
    judge_run, acc = ch.train_judge(train, test, F=0.5, epochs=4)
    assert acc > 0.6  # 14 varieties: chance is 7%
    judge = judge_run.model.eval()
    c = train.classes.index("Tomato")
    data = ch.one_class(train, c)
    spec = ch.gan_spec("t", F=0.5, batch=32, lr=1e-3, policy=ch.POLICY)
    t = ch.train_fruit_gan(data, spec, epochs=1, min_steps=150, judge=judge)
    assert len(t.history) == ch.epochs_for(len(data), 32, 1, 150) and all("diversity" in h for h in t.history)
    real = test.of_class(c)
    n = ch.eval_n(real, 400)
    trained = ch.scores(t.generate(n), real, {"fruit classifier": judge}, n)[0]["FID"]
    torch.manual_seed(0)
    from labkit.models import RadfordGenerator
    untrained = RadfordGenerator(channels=3, size=32, F=0.5).eval()
    with torch.no_grad():
        start = ch.scores(untrained(torch.randn(n, 100)), real, {"fruit classifier": judge}, n)[0]["FID"]
    assert trained < 0.5 * start
    assert t.history[-1]["diversity"] > 0.5
    curve = ch.fid_vs_n(t, real, judge, [10, 40, 10_000], "fruit classifier")
    assert list(curve.index) == [10, 40, len(real) // 2] and (curve["real vs real"] < curve["GAN"]).all()


def test_paper_table_numbers_are_quoted():
    assert ch.PAPER["Apple"] == (2.475, 0.112, 129) and ch.PAPER["Tomato"] == (1.382, 0.036, 236)
    assert ch.PAPER["Banana"] == (2.556, 0.291, 270) and ch.PAPER["Grape"] == (3.001, 0.078, 250)
    assert np.isclose(sum(v for v in ch.PAPER_COUNTS.values()), 6405 + 1430 + 3419 + 5103)
