"""Quick runs on large data: an epoch draws a share of a run's images, afresh each epoch
(labkit.train.BatchSource ``epoch_size``, labkit.runs ``epoch_share``, labkit.params
``epoch_images`` and ``Params.size_to``). The stand-in runs are unchanged by it."""
import pytest
import torch

from labkit.data.core import ImageSet
from labkit.experiments import fer, fruits
from labkit.params import Param, Spec
from labkit.runs import GANSpec, epoch_size, fit
from labkit.train import BatchSource


def test_epoch_size_is_the_share_but_never_less_than_a_batch_nor_all_of_it():
    assert epoch_size(28709, 64, 2400 / 28709) == 2400
    assert epoch_size(436, 32, 2400 / 28709) == 36       # Disgust: round(436 × 0.0836)
    assert epoch_size(100, 32, 0.05) == 32               # at least one batch
    assert epoch_size(20, 32, 0.05) is None              # one batch is the whole set: every image
    assert epoch_size(1000, 64, None) is None and epoch_size(1000, 64, 1.0) is None
    with pytest.raises(ValueError, match="epoch_share must be in"):
        epoch_size(1000, 64, 0.0)


def test_each_epoch_draws_a_new_part_and_over_epochs_sees_all_the_data():
    x = torch.arange(1000).float()
    src = BatchSource(x, batch_size=50, epoch_size=200)
    assert len(src) == 4
    g = torch.Generator().manual_seed(0)
    epochs = [torch.cat([b[0] for b in src.epoch(g)]) for _ in range(20)]
    assert all(len(e) == 200 and len(set(e.tolist())) == 200 for e in epochs)  # no image twice in an epoch
    assert set(epochs[0].tolist()) != set(epochs[1].tolist())
    seen = set(torch.cat(epochs).long().tolist())
    assert len(seen) > 980  # 1 - 0.8^20 of them: about 988 of 1,000
    # an epoch_size of the whole set (or more) is every image, as without it
    assert BatchSource(x, batch_size=50, epoch_size=5000).epoch_size is None
    with pytest.raises(ValueError, match="at least the batch size"):
        BatchSource(x, batch_size=50, epoch_size=10)


def test_a_gan_on_a_share_takes_that_many_steps_and_resumes_to_the_same_weights(tmp_path):
    g = torch.Generator().manual_seed(0)
    data = ImageSet(torch.rand(256, 1, 28, 28, generator=g) * 2 - 1, torch.zeros(256, dtype=torch.long), ["digit"], "noise")
    spec = GANSpec("share", "mnist", g_args={"F": 0.05}, d_args={"F": 0.05}, batch=32)
    t = fit(spec, data, 2, device="cpu", run_root=tmp_path / "a", epoch_share=0.25)
    assert len(t.steps["loss_d"]) == 2 * 2  # 64 images per epoch, batch 32
    full = fit(spec, data, 1, device="cpu", run_root=tmp_path / "a")
    assert full.resumed_from is None and full.checkpoint_dir != t.checkpoint_dir  # another run, another folder
    assert len(full.steps["loss_d"]) == 8
    once = fit(spec, data, 1, device="cpu", run_root=tmp_path / "b", epoch_share=0.25)
    again = fit(spec, data, 2, device="cpu", run_root=tmp_path / "b", epoch_share=0.25)
    assert again.resumed_from == 1 and once.checkpoint_dir == again.checkpoint_dir
    for a, b in zip(t.G.state_dict().values(), again.G.state_dict().values()):
        assert torch.equal(a, b)


def spec_with_cap():
    return Spec(Param("epochs", "epochs", 3, 30, int, low=1), data=("the data", "data/x"), epoch_images=2400)


def test_size_to_sets_the_share_of_every_run_and_says_so(capsys):
    P = spec_with_cap().resolve({"data_dir": "somewhere"})
    assert P.epoch_images == 2400 and "epoch_share" not in P.run
    assert P.size_to(28709, "training faces") == pytest.approx(2400 / 28709)
    assert P.run["epoch_share"] == pytest.approx(0.0836, abs=1e-4)
    assert "28,709 training faces: each epoch draws 8.4% of a run's images" in capsys.readouterr().out
    # the embedded data (no larger than the cap) and the paper profile train on every image
    P = spec_with_cap().resolve({})
    assert P.size_to(2400) is None and "epoch_share" not in P.run
    P = spec_with_cap().resolve({"data_dir": "somewhere", "epoch_images": 0})  # 0: every image, as papermill can pass it
    assert P.size_to(28709) is None and "epoch_share" not in P.run
    P = spec_with_cap().resolve({"profile": "paper"})
    assert P.epoch_images is None and P.size_to(28709) is None and "epoch_share" not in P.run
    assert capsys.readouterr().out == ""


def test_the_chapters_quick_caps_are_their_embedded_data_sizes():
    assert fer.SPEC.resolve({}).epoch_images == fer.SPEC.resolve({}).n_standin == 2400
    assert fruits.SPEC.resolve({}).epoch_images == fruits.SPEC.resolve({}).n_standin == 2000


def test_fruit_epochs_for_counts_steps_on_the_drawn_share():
    # 1,430 bananas, batch 32: 44 steps an epoch on all, 5 on 12% of them
    assert fruits.epochs_for(1430, 32, 12, 600) == 14
    assert fruits.epochs_for(1430, 32, 12, 600, epoch_share=0.12) == 120


def test_a_knob_may_have_its_own_quick_value_on_real_data():
    spec = Spec(Param("gan_epochs", "epochs", 15, 100, int, low=1, real=60),
                Param("batch", "batch", 32, 32, int, low=1), data=("the data", "data/x"), epoch_images=2400)
    assert spec.resolve({}).gan_epochs == 15                            # embedded data
    real = spec.resolve({"data_dir": "/data/fer2013"})
    assert real.gan_epochs == 60
    assert real.table().loc["gan_epochs", "source"] == "profile, real data"
    assert spec.resolve({"data_dir": "/data/fer2013", "gan_epochs": 7}).gan_epochs == 7   # given wins
    assert spec.resolve({"profile": "paper"}).gan_epochs == 100
    # the parameters cell leaves it to the profile (None), as for any knob whose profiles differ
    assert "gan_epochs: Optional[int] = None  # epochs" in spec.cell()
    assert "batch: int = 32  # batch" in spec.cell()


def test_the_fer_chapters_train_longer_on_real_faces():
    standin, real = fer.SPEC.resolve({}), fer.SPEC.resolve({"data_dir": "x"})
    assert (standin.gan_F, standin.gan_epochs, standin.clf_epochs, standin.compare_classifiers) == (0.125, 15, 5, True)
    assert (real.gan_F, real.gan_epochs, real.clf_epochs, real.compare_classifiers) == (0.25, 60, 12, False)
