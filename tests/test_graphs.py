"""The GAN step replayed as a CUDA graph (labkit.train.graphs).

On a CPU: the parts that decide and carry a graph (checkpoints that load on any device, which
trainers capture). On a CUDA GPU: the graph trains to the same weights as the eager step, captures
again where it must, and resumes."""
from __future__ import annotations

import copy

import pytest
import torch

from labkit.losses import BCELoss, WGANGPLoss
from labkit.models.radford import RadfordDiscriminator, RadfordGenerator
from labkit.train import BatchSource, GANTrainer
from labkit.train.graphs import CapturedStep, make_capturable

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def small_gan(device="cpu", **kw):
    torch.manual_seed(0)
    k = kw.get("num_classes", 0)
    G = RadfordGenerator(nz=16, F=0.125, channels=1, size=32, num_classes=k)
    D = RadfordDiscriminator(F=0.125, channels=1, size=32, num_classes=k)
    return GANTrainer(G, D, nz=16, device=device, **kw)


def data(n=40, batch=16):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(n, 1, 32, 32, generator=g) * 2 - 1
    return BatchSource(x, torch.randint(0, 10, (n,), generator=g), batch_size=batch, drop_last=False)


def test_checkpoint_of_a_captured_optimiser_loads_and_trains_on_the_cpu(tmp_path):
    # A CPU Adam refuses capturable=True; a checkpoint written while a GPU run replayed its step
    # as a graph must still continue on a CPU.
    t = small_gan()
    t.fit(data(), 1)
    for opt in t.optimizers.values():
        make_capturable(opt)
    assert all(g["capturable"] for o in t.optimizers.values() for g in o.param_groups)
    with pytest.raises(AssertionError, match="capturable"):
        t.fit(data(), 2)
    state = t.state_dict()
    assert not any(g["capturable"] for o in state["optimizers"].values() for g in o["param_groups"])
    assert all(g["capturable"] for o in t.optimizers.values() for g in o.param_groups)  # the live one untouched
    t.save_checkpoint(tmp_path / "checkpoint.pt")
    u = small_gan(checkpoint_dir=tmp_path)
    u.fit(data(), 2)
    assert u.epoch == 2 and u.resumed_from == 1


def test_only_a_cuda_step_without_host_draws_is_captured():
    assert small_gan().captured is None  # CPU
    with pytest.raises(ValueError, match="warmup"):
        CapturedStep(lambda: {}, [], warmup=0)


@cuda
def test_capture_choice_on_cuda(monkeypatch):
    assert small_gan("cuda").captured is not None
    assert small_gan("cuda", loss=WGANGPLoss()).captured is None  # its penalty draws on the CPU
    assert small_gan("cuda", augment=lambda x: x).captured is None
    monkeypatch.setenv("LABKIT_CUDA_GRAPHS", "0")
    assert small_gan("cuda").captured is None


def exact_cuda():
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def rel_diff(a: GANTrainer, b: GANTrainer) -> float:
    pa = torch.cat([p.detach().flatten() for m in a.models.values() for p in m.state_dict().values() if p.is_floating_point()])
    pb = torch.cat([p.detach().flatten() for m in b.models.values() for p in m.state_dict().values() if p.is_floating_point()])
    return float((pa - pb).norm() / pb.norm())


@cuda
@pytest.mark.parametrize("kw", [{}, {"ema": 0.9, "decay_from": 0.0, "epochs": 4}, {"loss": BCELoss(real_target=0.9)},
                                {"num_classes": 10}])
def test_graph_trains_to_the_eager_steps_weights(monkeypatch, kw):
    exact_cuda()
    kw = copy.deepcopy(kw)
    eager_kw = copy.deepcopy(kw)
    monkeypatch.setenv("LABKIT_CUDA_GRAPHS", "0")
    eager = small_gan("cuda", amp=False, **eager_kw).fit(data(), 4)
    monkeypatch.delenv("LABKIT_CUDA_GRAPHS")
    graphed = small_gan("cuda", amp=False, **kw).fit(data(), 4)
    # 4 epochs of 2 full batches and a short one: the full batches get a graph in epoch 2, after 3
    # eager steps, the short one in epoch 4; a decaying rate captures the full batches' again in
    # epochs 3 and 4
    assert graphed.captured.captures == (4 if "decay_from" in kw else 2)
    assert rel_diff(graphed, eager) < 1e-4
    assert graphed.steps["loss_d"] == pytest.approx(eager.steps["loss_d"], rel=1e-3)
    assert len(set(graphed.steps["loss_d"][-4:])) == 4  # the replays train: every step's loss differs


@cuda
def test_graph_resumes_to_the_unbroken_runs_weights(tmp_path):
    exact_cuda()
    whole = small_gan("cuda", amp=False).fit(data(), 4)
    first = small_gan("cuda", amp=False, checkpoint_dir=tmp_path).fit(data(), 2)
    assert first.captured.captures == 1
    second = small_gan("cuda", amp=False, checkpoint_dir=tmp_path).fit(data(), 4)
    assert second.resumed_from == 2
    assert rel_diff(second, whole) < 1e-4
