import numpy as np
import pandas as pd
import pytest
import torch

import labkit.experiments.fer as ch
from labkit.data.core import ImageSet, concat
from labkit.data.fer_standin import make_fer_standin
from labkit.metrics import ClassifierScore, per_class_accuracy
from labkit.models import Paper000CNN, Paper000Discriminator, Paper000Generator, count_params
from labkit.runs import fit
from labkit.train import GANTrainer

CLASSES = ["Angry", "Disgust", "Fear"]


def small_set(counts=(4, 2, 3), seed=0) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    y = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    return ImageSet(torch.rand(len(y), 1, 48, 48, generator=g) * 2 - 1, y, list(CLASSES), "hand-made")


def score(cm) -> ClassifierScore:
    cm = np.asarray(cm)
    return ClassifierScore(float(np.trace(cm) / cm.sum()), per_class_accuracy(cm), cm, int(cm.sum()))


def test_class_weights_balance_the_loss():
    w = ch.class_weights(small_set((2, 1, 1)))
    assert torch.allclose(w, torch.tensor([4 / 6, 4 / 3, 4 / 3]))
    # weight x count is the same for every class
    assert torch.allclose(w * torch.tensor([2.0, 1, 1]), torch.full((3,), 4 / 3))
    with pytest.raises(ValueError, match=r"no training images of \['Fear'\]"):
        ch.class_weights(small_set((2, 1, 0)))


def test_oversampled_repeats_real_images_of_the_asked_classes():
    s = small_set()
    extra = ch.oversampled(s, [1, 2], 5, seed=0)
    assert extra.counts() == [0, 5, 5]
    for img in extra.x:
        assert any(torch.equal(img, r) for r in s.x)
    assert "5 repeated real images per class of Disgust, Fear" == extra.source


def test_confusion_rate_weakest_and_balanced_accuracy():
    cm = [[8, 1, 1],
          [3, 6, 1],
          [0, 2, 2]]
    sc = score(cm)
    assert ch.confusion_rate(sc, CLASSES, "Disgust", "Angry") == pytest.approx(0.3)
    assert ch.confusion_rate(sc, CLASSES, "Fear", "Angry") == 0
    assert ch.weakest(sc, 2) == [2, 1]  # Fear 50%, Disgust 60%
    assert ch.balanced_accuracy(sc) == pytest.approx((0.8 + 0.6 + 0.5) / 3)
    assert sc.accuracy == pytest.approx(16 / 24)


def test_rare_classes_get_the_rare_epochs():
    P = ch.SPEC.resolve({"gan_epochs": 7, "gan_epochs_rare": 70, "rare_share": 0.05})
    s = small_set((97, 3, 20))
    assert ch.gan_epochs_for(s, 1, P) == 70  # 2.5% of the images
    assert ch.gan_epochs_for(s, 2, P) == 7   # 16.7%
    paper = ch.SPEC.resolve({"profile": "paper"})
    fer_train = [3995, 436, 4097, 7215, 4830, 3171, 4965]  # FER2013 Training per class

    class Stub:  # only what gan_epochs_for reads
        def counts(self):
            return fer_train

        def __len__(self):
            return sum(fer_train)

    assert ch.gan_epochs_for(Stub(), 1, paper) == 500 and ch.gan_epochs_for(Stub(), 2, paper) == 100


def test_nearest_real_is_zero_for_copies_and_exact_otherwise():
    real = torch.zeros(3, 1, 4, 4)
    real[1] += 1
    fake = torch.cat([real[:1], torch.full((1, 1, 4, 4), 0.25)])
    d = ch.nearest_real(fake, real)
    assert d[0] == 0 and d[1] == pytest.approx(0.25)


def test_gan_quality_flags_copies():
    train = make_fer_standin(140, seed=0, quiet=True)
    c = 3
    copies = ImageSet(train.of_class(c)[:5], torch.full((5,), c), list(train.classes), "copies")
    table = ch.gan_quality(Paper000CNN(F=0.125).eval(), copies, train)
    row = table.loc["Happy"]
    assert row["generated"] == 5 and row["distance to nearest real (generated)"] == pytest.approx(0, abs=1e-5)
    assert row["distance to nearest other real (real)"] > 0.05


def test_conditional_paper000_gan_needs_labels_and_generated_sets_are_labelled():
    G, D = Paper000Generator(F=0.05, num_classes=3), Paper000Discriminator(F=0.05, num_classes=3)
    y = torch.tensor([0, 1, 2, 1])
    out = G(torch.randn(4, 100), y)
    assert out.shape == (4, 1, 48, 48) and D(out, y).shape == (4,)
    with pytest.raises(ValueError, match="class-conditional"):
        G(torch.randn(2, 100))
    with pytest.raises(ValueError, match="class-conditional"):
        D(out)
    cgan = GANTrainer(G, D, num_classes=3, device="cpu")
    s = ch.generated(cgan, [1, 2], 6, CLASSES, seed=0)
    assert s.counts() == [0, 6, 6] and s.x.shape == (12, 1, 48, 48)
    assert "conditional GAN images per class of Disgust, Fear" in s.source
    per_class = {c: GANTrainer(Paper000Generator(F=0.05), Paper000Discriminator(F=0.05), device="cpu") for c in (0, 2)}
    s2 = ch.generated(per_class, [0, 2], 4, CLASSES, seed=1)
    assert s2.counts() == [4, 0, 4]
    assert torch.equal(s2.x, ch.generated(per_class, [0, 2], 4, CLASSES, seed=1).x)  # seeded


def test_capacity_scales_paper000_models_but_keeps_1024_features():
    small, full = Paper000CNN(F=0.125), Paper000CNN()
    assert small.features(torch.zeros(2, 1, 48, 48)).shape == (2, 1024)
    assert count_params(small)["torch"] < count_params(full)["torch"] / 3
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in Paper000CNN(batch_norm=False).modules())
    assert Paper000Generator(F=0.125).blocks[1].out_channels == 32


def test_classifier_runs_resume_and_never_reuse_other_data(tmp_path):
    train = make_fer_standin(140, seed=0, quiet=True)
    val = make_fer_standin(70, seed=1, quiet=True)
    spec = ch.classifier_spec("surreal", F=0.125, batch=32, lr=1e-3)
    run = dict(device="cpu", run_root=tmp_path)
    first = fit(spec, train, 1, val=val, **run)
    assert set(first.history[0]) >= {"loss", "acc", "val_loss", "val_acc"}
    again = fit(spec, train, 2, val=val, **run)
    assert again.resumed_from == 1 and again.epoch == 2
    other = ImageSet(train.x.flip(-1), train.y, train.classes, train.source)  # same source text, other images
    assert other.fingerprint() != train.fingerprint()
    fresh = fit(spec, other, 1, val=val, **run)
    assert fresh.resumed_from is None
    quiet = fit(spec, train, 1, **run)  # no validation: its own run, whose history has none
    assert quiet.resumed_from is None and "val_acc" not in quiet.history[0]


def test_compare_runs_every_condition_and_seed_and_reuses_done_runs(tmp_path):
    train = make_fer_standin(140, seed=0, quiet=True)
    val = test = make_fer_standin(70, seed=1, quiet=True)
    kw = dict(arch="surreal", F=0.125, batch=32, lr=1e-3)
    run = dict(device="cpu", run_root=tmp_path)
    done = {("plain", 3): fit(ch.classifier_spec(seed=3, **kw), train, 1, **run)}
    conditions = {"plain": {"train": train}, "weighted": {"train": train, "weighted": True}}
    table, scores = ch.compare(conditions, test, 2, 1, first_seed=3, done=done, watch=[1], run=run, **kw)
    assert list(zip(table.condition, table.seed)) == [("plain", 3), ("plain", 4), ("weighted", 3), ("weighted", 4)]
    assert set(table.columns) >= {"accuracy", "balanced accuracy", "Disgust", "Disgust → Angry"}
    assert scores[("plain", 3)].accuracy == pytest.approx(table.accuracy[0])
    summary = ch.summarise(table, ["accuracy"])
    assert list(summary.index) == ["plain", "weighted"] and " ± " in summary.loc["plain", "accuracy"]


def test_concat_and_fingerprint():
    a, b = small_set(), small_set(seed=1)
    both = concat(a, b, source="a+b")
    assert len(both) == len(a) + len(b) and both.counts() == [8, 4, 6] and both.source == "a+b"
    bad = ImageSet(b.x, b.y, ["x", "y", "z"], "other classes")
    with pytest.raises(ValueError, match="cannot join"):
        concat(a, bad)
    c = small_set()
    assert c.fingerprint() == a.fingerprint()
    c.x[0, 0, 0, 0] += 0.5
    assert c.fingerprint() != a.fingerprint()


def test_quick_and_paper_profiles():
    quick, paper = ch.SPEC.resolve({}), ch.SPEC.resolve({"profile": "paper"})
    assert quick.data_dir is None and paper.data_dir == "data/fer2013"
    assert (paper.clf_epochs, paper.gan_epochs_rare, paper.gan_epochs, paper.n_generate) == (70, 500, 100, 1000)
    assert paper.clf_F == paper.gan_F == 1.0 and paper.n_weak == 2


@pytest.mark.slow
def test_quick_classifier_learns_the_standin():
    train = make_fer_standin(2400, seed=0, label_noise=0.1, quiet=True)
    val = make_fer_standin(600, seed=1, label_noise=0.1, quiet=True)
    t = fit(ch.classifier_spec("paper000", F=0.125, batch=64, lr=1e-3), train, 4, val=val, device="cpu")
    majority = max(val.counts()) / len(val)
    assert t.history[-1]["val_acc"] > majority + 0.15


@pytest.mark.parametrize("sweep", ["serial", pytest.param("ray", marks=pytest.mark.slow)])
def test_compare_through_the_runner_gives_the_same_table(sweep, tmp_path):
    """The conditions × seeds comparison handed to labkit.runner (serially or on Ray) trains the
    same runs and gathers the same table as in this process."""
    pytest.importorskip("ray") if sweep == "ray" else None
    train = make_fer_standin(140, seed=0, quiet=True)
    test = make_fer_standin(70, seed=1, quiet=True)
    kw = dict(arch="surreal", F=0.125, batch=32, lr=1e-3)
    conditions = {"plain": {"train": train}, "weighted": {"train": train, "weighted": True}}
    here, _ = ch.compare(conditions, test, 2, 1, watch=[1], run=dict(device="cpu", run_root=tmp_path / "a"), **kw)
    there, scores = ch.compare(conditions, test, 2, 1, watch=[1], run=dict(device="cpu", run_root=tmp_path / "b"),
                               sweep=sweep, **kw)
    pd.testing.assert_frame_equal(here, there)
    assert scores[("weighted", 1)].confusion.sum() == len(test)
    assert len(list((tmp_path / "b" / "sweep-compare").iterdir())) == 4  # one folder per run
