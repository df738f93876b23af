"""The GAN step replayed as a CUDA graph (labkit.train.graphs).

On a CPU: the parts that decide and carry a graph (checkpoints that load on any device, which
trainers capture, the draws' tape), and the whole replay mechanism with ``Rerun`` standing in for
the recording (static inputs, draw slots refilled before each replay, a graph per shape, captured
again when a rate changes, resume), which must train to the eager step's very weights. On a CUDA
GPU: the same with real graphs."""
from __future__ import annotations

import pytest
import torch

from labkit.augment import ClassicAugment, DiffAugment
from labkit.draws import Tape, host_random, taping
from labkit.losses import BCELoss, WGANGPLoss
from labkit.models.radford import RadfordDiscriminator, RadfordGenerator
from labkit.train import BatchSource, GANTrainer
from labkit.train.graphs import CapturedStep, Rerun, make_capturable

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


def test_host_random_draws_what_torch_draws():
    g = torch.Generator().manual_seed(7)
    a = host_random("randn", (3, 4), "cpu", generator=g)
    b = host_random("randint", (5,), "cpu", generator=g, low=-2, high=3)
    c = host_random("rand", (2, 1), "cpu", generator=g, dtype=torch.float64)
    g.manual_seed(7)
    assert torch.equal(a, torch.randn(3, 4, generator=g))
    assert torch.equal(b, torch.randint(-2, 3, (5,), generator=g))
    assert c.dtype == torch.float64 and torch.equal(c, torch.rand(2, 1, generator=g).double())
    with pytest.raises(ValueError, match="kind"):
        host_random("normal", (2,), "cpu")
    with pytest.raises(ValueError, match="high"):
        host_random("randint", (2,), "cpu")


def draws(g):
    """A step's draws: from its own generator and from torch's default one (the penalty's)."""
    return [host_random("randn", (2, 3), "cpu", generator=g), host_random("rand", (4, 1), "cpu"),
            host_random("randint", (3,), "cpu", generator=g, low=0, high=9)]


def test_a_tape_refills_its_slots_with_the_eager_draws():
    g = torch.Generator().manual_seed(1)
    torch.manual_seed(2)
    with taping(Tape()) as tape:
        eager = draws(g)
    assert [spec[0] for spec, _, _ in tape.draws] == ["randn", "rand", "randint"]
    replay = tape.for_capture()
    # the slots exist before the graph records: memory allocated while it records could be an
    # intermediate's that the replay writes before the step reads the draw
    assert [tuple(s.shape) for s in replay.slots] == [(2, 3), (4, 1), (3,)] and replay.used == 0
    before = [s.data_ptr() for s in replay.slots]
    with taping(replay):
        slots = draws(g)  # while a graph records: the slots, no numbers drawn
    assert replay.complete() and [s.data_ptr() for s in slots] == before
    g.manual_seed(1)
    torch.manual_seed(2)
    replay.fill()
    assert all(torch.equal(s, e) for s, e in zip(slots, eager))
    with taping(tape.for_capture()), pytest.raises(RuntimeError, match=r"draw 1 of this step is \('randn', \(9, 3\)"):
        host_random("randn", (9, 3), "cpu", generator=g)
    with taping(tape.for_capture()), pytest.raises(RuntimeError, match="draw 1 .* from another generator"):
        host_random("randn", (2, 3), "cpu", generator=torch.Generator())
    with taping(tape.for_capture()) as more, pytest.raises(RuntimeError, match="draw 4 .* made only 3 draws"):
        draws(g)
        host_random("rand", (1,), "cpu")
    assert more.used == 3


def test_only_a_cuda_step_is_captured():
    t = small_gan()
    assert t.captured is None  # CPU
    t.augment = DiffAugment()
    assert t.captured is None and isinstance(t.augment, DiffAugment)
    t.augment = None
    assert t.augment(torch.ones(2)).sum() == 2  # none: the identity
    with pytest.raises(ValueError, match="warmup"):
        CapturedStep(lambda: {}, [], warmup=0)


@cuda
def test_capture_choice_on_cuda(monkeypatch):
    assert small_gan("cuda").captured is not None
    assert small_gan("cuda", loss=WGANGPLoss(), d_steps=2).captured is None  # draws inside: only with "all"
    assert small_gan("cuda", augment=DiffAugment()).captured is None
    monkeypatch.setenv("LABKIT_CUDA_GRAPHS", "all")
    assert small_gan("cuda", loss=WGANGPLoss(), d_steps=2).captured is not None
    assert small_gan("cuda", augment=DiffAugment()).captured is not None
    assert small_gan("cuda", augment=ClassicAugment()).captured is None  # draws outside host_random
    assert small_gan("cuda", augment=lambda x: x).captured is None
    later = small_gan("cuda")  # labkit.runs sets the augmentation after building the trainer
    later.augment = ClassicAugment()
    assert later.captured is None
    monkeypatch.delenv("LABKIT_CUDA_GRAPHS")
    later = small_gan("cuda")
    later.augment = DiffAugment()
    assert later.captured is None  # draws inside: only with "all"
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


SETTINGS = {
    "plain": lambda: {},
    "average, decaying rate": lambda: {"ema": 0.9, "decay_from": 0.0, "epochs": 4},
    "label smoothing": lambda: {"loss": BCELoss(real_target=0.9)},
    "conditional": lambda: {"num_classes": 10},
    "DiffAugment": lambda: {"augment": DiffAugment(generator=torch.Generator().manual_seed(5))},
    "WGAN-GP, 2 critic steps": lambda: {"loss": WGANGPLoss(), "d_steps": 2},
}


def rerun_gan(**kw):
    t = small_gan(**kw)
    t.captured = CapturedStep(t._step, t.optimizers.values(), backend=Rerun())
    return t


def same_weights(a: GANTrainer, b: GANTrainer) -> bool:
    return all(torch.equal(p, q) for k in a.models for p, q in
               zip(a.models[k].state_dict().values(), b.models[k].state_dict().values()))


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_replays_train_to_the_eager_steps_weights_on_the_cpu(setting):
    eager = small_gan(amp=False, **SETTINGS[setting]()).fit(data(), 4)
    replayed = rerun_gan(amp=False, **SETTINGS[setting]()).fit(data(), 4)
    # 4 epochs of 2 full batches and a short one: the full batches get a graph in epoch 2, after 3
    # eager steps, the short one in epoch 4; a decaying rate captures the full batches' again in
    # epochs 3 and 4
    assert replayed.captured.captures == (4 if setting == "average, decaying rate" else 2)
    assert same_weights(replayed, eager)
    assert replayed.steps == eager.steps


def test_replays_resume_to_the_unbroken_runs_weights_on_the_cpu(tmp_path):
    def run(**kw):
        t = small_gan(amp=False, **kw)
        t.augment = DiffAugment(generator=t.gen)  # as labkit.runs does: draws from the generator a checkpoint saves
        t.captured = CapturedStep(t._step, t.optimizers.values(), backend=Rerun())
        return t

    whole = run().fit(data(), 4)
    first = run(checkpoint_dir=tmp_path).fit(data(), 2)
    assert first.captured.captures == 1
    second = run(checkpoint_dir=tmp_path).fit(data(), 4)
    assert second.resumed_from == 2 and second.captured.captures == 1  # warmed up and captured again
    assert same_weights(second, whole)


@cuda
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_graph_trains_to_the_eager_steps_weights(monkeypatch, setting):
    exact_cuda()
    kw = SETTINGS[setting]()
    monkeypatch.setenv("LABKIT_CUDA_GRAPHS", "0")  # (each trainer seeds torch's generator, the penalty's)
    eager = small_gan("cuda", amp=False, **SETTINGS[setting]()).fit(data(), 4)
    monkeypatch.setenv("LABKIT_CUDA_GRAPHS", "all")
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
    assert second.resumed_from == 2 and second.captured.captures == 1  # the resumed run replays too
    assert rel_diff(second, whole) < 1e-4
