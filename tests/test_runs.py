"""labkit.runs: one spec and one fit per kind of run. A run killed at any point resumes to
bit-identical weights whatever augmentation it uses; runs on different data never share a
folder; networks are looked up by name."""
import pytest
import torch

from labkit.data.core import ImageSet
from labkit.data.fer_standin import make_fer_standin
from labkit.experiments import cyclegan, fer, fruits, mnist, radford
from labkit.models.registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS, define
from labkit.runs import ClassifierSpec, CycleGANSpec, GANSpec, fit
from labkit.train import ClassifierTrainer, CycleGANTrainer, GANTrainer


def faces(n=48, seed=0):
    return make_fer_standin(n, seed=seed, quiet=True)


def rgb(n=24, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    return ImageSet(x, torch.zeros(n, dtype=torch.long), ["fruit"], f"random rgb {seed}")


def tensors(state, prefix=""):
    """Every tensor in a (nested) state dict, by path."""
    if torch.is_tensor(state):
        return {prefix: state}
    out = {}
    if isinstance(state, dict):
        for k, v in state.items():
            out.update(tensors(v, f"{prefix}/{k}"))
    elif isinstance(state, (list, tuple)):
        for i, v in enumerate(state):
            out.update(tensors(v, f"{prefix}/{i}"))
    return out


def assert_same_run(a, b):
    sa, sb = tensors(a.state_dict()["models"]), tensors(b.state_dict()["models"])
    oa, ob = tensors(a.state_dict()["optimizers"]), tensors(b.state_dict()["optimizers"])
    assert sa.keys() == sb.keys() and oa.keys() == ob.keys()
    differ = [k for k in sa if not torch.equal(sa[k], sb[k])] + [k for k in oa if not torch.equal(oa[k], ob[k])]
    assert not differ, f"{len(differ)} of {len(sa) + len(oa)} tensors differ, e.g. {differ[:3]}"
    assert a.steps == b.steps
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in a.history] == \
           [{k: v for k, v in h.items() if k != "seconds"} for h in b.history]


CASES = {
    "GAN, BCE": (GANSpec("bce", "mnist", g_args={"F": 0.1}, d_args={"F": 0.1}, conditional=True, batch=32), "mnist"),
    "WGAN-GP, 3 critic steps": (fer.gan_spec("wgan", F=0.05, batch=16, lr=1e-3, loss="wgan-gp", d_steps=3), "faces"),
    "GAN, DiffAugment": (fruits.gan_spec("da", F=0.1, batch=8, lr=1e-3, policy=fruits.POLICY), "rgb"),
    "classifier, ClassicAugment": (fer.classifier_spec("surreal", F=0.125, batch=16, lr=1e-3), "faces"),
    **{f"CycleGAN, {v}": (cyclegan.cyclegan_spec(v, "cyc", F=0.05, blocks=1, batch=4, lr_g=2e-4, lr_d=1e-4, critic_steps=2),
                          "pairs") for v in cyclegan.VARIANTS},
}
TRAINERS = {GANSpec: GANTrainer, ClassifierSpec: ClassifierTrainer, CycleGANSpec: CycleGANTrainer}


def data_for(kind, mnist_small):
    if kind == "mnist":
        return mnist_small.take(96, seed=0)
    if kind == "faces":
        return faces()
    if kind == "rgb":
        return rgb()
    f = faces(96)
    return f.x[:16], f.x[16:40]


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_run_killed_mid_epoch_resumes_to_bit_identical_weights(case, tmp_path, monkeypatch, mnist_small):
    spec, kind = CASES[case]
    data = data_for(kind, mnist_small)
    whole = fit(spec, data, 2, device="cpu", run_root=tmp_path / "whole")

    cls = TRAINERS[type(spec)]
    step, calls = cls.train_step, []

    def dies_in_epoch_two(self, batch):
        calls.append(1)
        if self.epoch == 1 and len(calls) > 1 + len(self.steps[next(iter(self.steps))]):  # a step into epoch 2
            raise KeyboardInterrupt("killed")
        return step(self, batch)

    monkeypatch.setattr(cls, "train_step", dies_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        fit(spec, data, 2, device="cpu", run_root=tmp_path / "killed")
    monkeypatch.setattr(cls, "train_step", step)
    torch.manual_seed(12345)  # whatever the process did in between
    resumed = fit(spec, data, 2, device="cpu", run_root=tmp_path / "killed")
    assert resumed.resumed_from == 1 and resumed.epoch == 2
    assert_same_run(whole, resumed)


def test_the_augmentation_really_draws_from_the_saved_state(tmp_path):
    """Without the wiring (a fresh generator for the augmenter) the resumed run differs: the
    resume test above can fail."""
    spec = fer.classifier_spec("surreal", F=0.125, batch=16, lr=1e-3)
    t = fit(spec, faces(), 1, device="cpu", run_root=tmp_path)
    assert t.augment.generator is t.gen


@pytest.mark.slow
@pytest.mark.parametrize("make", [
    lambda: (mnist.gan_spec(F=0.1, D=1, B=32, lr=2e-3, conditional=True), "mnist"),
    lambda: (mnist.lenet_spec(), "mnist"),
    lambda: (fer.gan_spec("g", F=0.05, batch=16, lr=1e-3), "faces"),
    lambda: (fer.classifier_spec("simple", F=0.05, batch=16, lr=1e-3), "faces"),
    lambda: (radford.dcgan_spec("r", F=0.05, batch=16, lr=1e-3), "faces"),
    lambda: (fruits.gan_spec("f", F=0.05, batch=8, lr=1e-3, policy=None), "rgb"),
    lambda: (cyclegan.fake_gan_specs(F=0.05, batch=16)["WGAN-GP"], "faces"),
    lambda: (cyclegan.cyclegan_spec("CycleGAN", "c", F=0.05, blocks=1, batch=4, lr_g=2e-4, lr_d=2e-4), "pairs"),
], ids=["mnist gan", "lenet", "paper000 gan", "fer classifier", "radford", "fruit gan", "fake wgan", "cyclegan"])
def test_two_subsets_of_the_same_size_never_share_a_run_folder(make, tmp_path, mnist_small):
    spec, kind = make()
    if kind == "mnist":
        a, b = mnist_small.take(64, seed=0), mnist_small.take(64, seed=1)
    elif kind == "pairs":
        f = faces(96)
        a, b = (f.x[:12], f.x[12:36]), (f.x[36:48], f.x[12:36])
    else:
        full = faces(96) if kind == "faces" else rgb(48)
        a, b = full.subset(torch.arange(0, 48, 2), "even"), full.subset(torch.arange(1, 48, 2), "even")  # same source text
    first = fit(spec, a, 1, device="cpu", run_root=tmp_path)
    second = fit(spec, b, 1, device="cpu", run_root=tmp_path)
    assert second.resumed_from is None and first.checkpoint_dir != second.checkpoint_dir
    assert fit(spec, a, 1, device="cpu", run_root=tmp_path).resumed_from == 1  # the same data finds its run


def test_registry_one_lookup_per_name_and_unknown_names_list_the_known_ones():
    assert set(GENERATORS) == {"mnist", "paper000", "radford", "resnet"}
    assert set(DISCRIMINATORS) == {"mnist", "paper000", "radford", "patch"}
    assert set(CLASSIFIERS) == {"lenet", "paper000", "simple", "surreal", "fruitnet"}
    G = define("generator", "radford", (1, 48, 48), 0, F=0.25)
    assert G(torch.zeros(2, 100, 1, 1)).shape == (2, 1, 48, 48)
    with pytest.raises(ValueError, match="unknown generator 'dcgan'; the known ones are mnist, paper000, radford, resnet"):
        define("generator", "dcgan", (1, 48, 48))
    with pytest.raises(ValueError, match="built for 1×28×28 images; the data has 1×48×48"):
        define("discriminator", "mnist", (1, 48, 48))
    with pytest.raises(TypeError, match="classifier 'lenet'"):
        define("classifier", "lenet", (1, 28, 28), 10, width=3)


def test_fit_refuses_what_is_not_a_spec():
    with pytest.raises(TypeError, match="GANSpec, ClassifierSpec or CycleGANSpec"):
        fit({"arch": "radford"}, faces(), 1)


def test_specs_are_frozen_and_hold_no_epochs():
    spec = fer.gan_spec("g", F=0.05, batch=16, lr=1e-3)
    with pytest.raises(Exception):
        spec.lr_g = 1.0
    for kind in (GANSpec, ClassifierSpec, CycleGANSpec):
        assert "epochs" not in kind.__dataclass_fields__
