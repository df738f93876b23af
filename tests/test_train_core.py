import os

import pytest
import torch

from labkit.losses import BCELoss
from labkit.models import MnistDiscriminator, MnistGenerator
from labkit.train import BatchSource, GANTrainer, NonFiniteLossError, Trainer, atomic_save, run_dir
from labkit.train.core import CHECKPOINT


def make_gan(tmp_path, seed=0, norm="batch", config=None):
    torch.manual_seed(seed)  # initial weights follow the seed
    G = MnistGenerator(F=0.1, num_classes=10, norm=norm)
    D = MnistDiscriminator(F=0.1, num_classes=10, norm=norm)
    return GANTrainer(G, D, num_classes=10, loss=BCELoss(0.9), lr_g=2e-3, lr_d=2e-3, seed=seed, device="cpu",
                      checkpoint_dir=tmp_path, config=config or {"test": 1})


def weights(trainer):
    return {f"{m}.{k}": v.clone() for m, model in trainer.models.items() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("norm", ["batch", "virtual"])
def test_resume_continues_to_bit_identical_weights(tmp_path, mnist_small, norm):
    data = lambda: BatchSource(mnist_small.x, mnist_small.y, batch_size=50)  # noqa: E731
    straight = make_gan(tmp_path / "a", norm=norm).fit(data(), 3)
    first = make_gan(tmp_path / "b", norm=norm).fit(data(), 1)
    assert first.epoch == 1
    resumed = make_gan(tmp_path / "b", norm=norm, seed=123)  # a different seed: the checkpoint's state must win
    resumed.fit(data(), 3)
    assert resumed.resumed_from == 1 and resumed.epoch == 3
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert straight.steps["loss_d"] == resumed.steps["loss_d"]
    assert len(resumed.snapshots) == 3 and resumed.snapshots[0].dtype == torch.uint8


def test_finished_run_is_loaded_not_retrained(tmp_path, mnist_small):
    make_gan(tmp_path).fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=50), 1)
    again = make_gan(tmp_path)
    again.fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=50), 1)
    assert again.resumed_from == 1 and len(again.history) == 1


def test_checkpoint_further_along_than_asked_is_refused(tmp_path, mnist_small):
    make_gan(tmp_path).fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=50), 2)
    with pytest.raises(RuntimeError, match="holds 2 epochs, more than the 1 asked for"):
        make_gan(tmp_path).fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=50), 1)


def test_checkpoint_of_other_settings_is_refused(tmp_path, mnist_small):
    make_gan(tmp_path, config={"lr": 1}).fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=50), 1)
    with pytest.raises(RuntimeError, match="written with other settings \\(lr: 1 there, 2 here\\)"):
        make_gan(tmp_path, config={"lr": 2}).fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=50), 2)
    with pytest.raises(FileExistsError, match="nothing is overwritten"):
        make_gan(tmp_path, config={"lr": 1}).fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=50), 2, resume=False)


class Toy(Trainer):
    """A one-weight model whose loss turns NaN in a chosen epoch."""

    def __init__(self, bad_epoch, **kw):
        w = torch.nn.Linear(1, 1)
        super().__init__({"w": w}, {"w": torch.optim.SGD(w.parameters(), lr=0.1)}, device="cpu", **kw)
        self.bad_epoch = bad_epoch

    def train_step(self, batch):
        (x,) = batch
        loss = self.models["w"](x).pow(2).mean()
        self.optimizers["w"].zero_grad()
        loss.backward()
        self.optimizers["w"].step()
        if self.epoch + 1 == self.bad_epoch:
            loss = loss * float("nan")
        return {"loss": loss}


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    t = Toy(bad_epoch=3, checkpoint_dir=tmp_path, name="toy")
    with pytest.raises(NonFiniteLossError) as err:
        t.fit(BatchSource(torch.randn(8, 1), batch_size=4), 5)
    msg = str(err.value)
    assert "toy: loss became nan at epoch 3, step 1" in msg
    assert f"last good checkpoint (epoch 2) is kept at {tmp_path / CHECKPOINT}" in msg
    saved = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    assert saved["epoch"] == 2 and len(saved["history"]) == 2


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    atomic_save({"good": torch.ones(3)}, path)

    def broken_save(obj, f):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"new": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(torch.load(path, weights_only=True)["good"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left behind


def test_checkpoints_load_with_weights_only(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"format": 1, "payload": Evil()}, tmp_path / CHECKPOINT)
    t = Toy(bad_epoch=0, checkpoint_dir=tmp_path)
    with pytest.raises(RuntimeError, match="not a readable labkit checkpoint"):
        t.fit(BatchSource(torch.randn(8, 1), batch_size=4), 1)


def test_run_dir_names_the_configuration(tmp_path, monkeypatch):
    a = run_dir(tmp_path, "gan", {"lr": 1, "F": 2})
    assert a == run_dir(tmp_path, "gan", {"F": 2, "lr": 1}) and a.parent == tmp_path and a.name.startswith("gan-")
    assert a != run_dir(tmp_path, "gan", {"lr": 2, "F": 2})
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "elsewhere"))
    assert run_dir(None, "gan", {}).parent == tmp_path / "elsewhere"  # the default root follows LABKIT_RUNS
    assert run_dir("mine", "gan", {}).parent.name == "mine"  # an explicit root is honoured
    monkeypatch.delenv("LABKIT_RUNS")
    assert run_dir(None, "gan", {}).parent.name == "runs"


def test_batch_source_checks_its_input():
    with pytest.raises(ValueError, match="equal length"):
        BatchSource(torch.zeros(4), torch.zeros(5), batch_size=2)
    with pytest.raises(ValueError, match="larger than the dataset"):
        BatchSource(torch.zeros(4), batch_size=8)
    src = BatchSource(torch.arange(10), batch_size=4, drop_last=False)
    batches = [b[0].tolist() for b in src.epoch(torch.Generator().manual_seed(0))]
    assert len(src) == 3 and sorted(sum(batches, [])) == list(range(10))


def test_generate_does_not_disturb_training_randomness(tmp_path, mnist_small):
    t = make_gan(tmp_path)
    state = t.gen.get_state().clone()
    images = t.generate(20, torch.arange(10).repeat(2), seed=3)
    assert images.shape == (20, 1, 28, 28) and torch.equal(t.gen.get_state(), state)
    assert torch.equal(images, t.generate(20, torch.arange(10).repeat(2), seed=3))
    with pytest.raises(ValueError, match="needs 5 labels"):
        t.generate(5)


def test_wgan_gp_plugs_into_the_same_loop(tmp_path, mnist_small):
    from labkit.losses import WGANGPLoss

    torch.manual_seed(0)
    t = GANTrainer(MnistGenerator(F=0.1), MnistDiscriminator(F=0.1), loss=WGANGPLoss(10), d_steps=2,
                   lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), device="cpu")
    t.fit(BatchSource(mnist_small.x, mnist_small.y, batch_size=100), 1)
    assert "penalty" in t.history[0] and t.history[0]["penalty"] > 0
    assert len(t.steps["loss_d"]) == 6


class Shots(Toy):
    def snapshot(self):
        return torch.full((1, 2, 2), self.epoch, dtype=torch.uint8)


def test_snapshot_every_keeps_every_nth_epoch_and_the_last(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LABKIT_PROGRESS", "text")
    t = Shots(bad_epoch=0, checkpoint_dir=tmp_path, name="shots", snapshot_every=2)
    t.fit(BatchSource(torch.randn(8, 1), batch_size=4), 5)
    assert t.snapshot_epochs == [2, 4, 5] and [int(s[0, 0, 0]) for s in t.snapshots] == [2, 4, 5]
    resumed = Shots(bad_epoch=0, checkpoint_dir=tmp_path, name="shots", snapshot_every=2)
    resumed.fit(BatchSource(torch.randn(8, 1), batch_size=4), 5)
    assert resumed.snapshot_epochs == [2, 4, 5]
    with pytest.raises(ValueError, match="snapshot_every must be >= 1"):
        Shots(bad_epoch=0, snapshot_every=0)
    # text progress: every epoch of a short run; about ten lines of a long one
    assert capsys.readouterr().out.count("shots: epoch") == 5
    Shots(bad_epoch=0, name="long").fit(BatchSource(torch.randn(4, 1), batch_size=4), 40)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("long: epoch")]
    assert len(lines) == 10 and lines[-1].startswith("long: epoch 40/40")


def test_a_metric_may_return_several_named_values():
    calls = []

    def both(tr):
        calls.append(tr.epoch)
        return {"val_a": tr.epoch, "val_b": 2 * tr.epoch}

    t = Toy(bad_epoch=0).fit(BatchSource(torch.randn(8, 1), batch_size=4), 2,
                             metrics={"both": both, "single": lambda tr: 0.5})
    assert [(h["val_a"], h["val_b"], h["single"]) for h in t.history] == [(1, 2, 0.5), (2, 4, 0.5)]
    assert "both" not in t.history[0] and calls == [1, 2]  # one call per epoch


def test_a_one_thread_run_is_timed_by_its_own_cpu_time():
    """Runs in labkit.parallel's workers share the cores, one thread each: their seconds are their
    CPU time, which the others' turns do not inflate (a sleep stands in for them here). With more
    threads, or on a GPU, an epoch is timed by the wall clock."""
    import time

    threads = torch.get_num_threads()
    try:
        seconds = {}
        for n in (1, 2):
            torch.set_num_threads(n)
            t = Toy(bad_epoch=0).fit(BatchSource(torch.randn(8, 1), batch_size=4), 2,
                                     metrics={"wait": lambda tr: time.sleep(0.25) or 0.0})
            seconds[n] = t.seconds
    finally:
        torch.set_num_threads(threads)
    assert seconds[1] < 0.2 and seconds[2] >= 0.5


@pytest.mark.parametrize("d_steps", [1, 3])
def test_one_generator_forward_per_step_reused_by_the_generator_step(d_steps):
    """As pytorch/examples' dcgan/main.py: G runs once per discriminator step, and the generator
    step scores the last discriminator step's fakes (so G's graph is kept for that one only)."""
    torch.manual_seed(0)
    G, D = MnistGenerator(F=0.1), MnistDiscriminator(F=0.1)
    calls = []
    G.register_forward_hook(lambda m, i, out: calls.append(out.requires_grad))
    seen_by_d = []
    D.register_forward_hook(lambda m, i, out: seen_by_d.append(i[0]))
    t = GANTrainer(G, D, loss=BCELoss(), d_steps=d_steps, device="cpu", amp=False)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    stats = t.train_step((x, torch.zeros(8, dtype=torch.long)))
    assert calls == [False] * (d_steps - 1) + [True]  # one forward per D step; only the last keeps its graph
    # D saw (real, fake) per D step, then the generator step's fakes: the last D step's, not new ones
    assert len(seen_by_d) == 2 * d_steps + 1
    assert torch.equal(seen_by_d[-1], seen_by_d[-2])
    assert set(stats) >= {"loss_d", "loss_g", "d_real", "d_fake", "d_acc"}


def test_generator_step_computes_no_gradient_for_the_discriminator():
    """D is frozen while it scores the fakes for G's step: its gradients stay those of its own
    step, G's are the same as with D unfrozen, and D's weights want gradients again afterwards."""
    from labkit.train.core import frozen

    torch.manual_seed(0)
    G, D = MnistGenerator(F=0.1), MnistDiscriminator(F=0.1)
    t = GANTrainer(G, D, loss=BCELoss(), device="cpu", amp=False)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    _, fake = t.d_step(x, None)
    d_grads = [p.grad.clone() for p in D.parameters()]
    # G's gradient with D not frozen, by hand, for comparison
    out = D(fake)
    want = torch.autograd.grad(t.loss.g_loss(out.float()), list(G.parameters()), retain_graph=True)
    t.g_step(fake, None)
    assert all(torch.equal(p.grad, g) for p, g in zip(D.parameters(), d_grads))  # untouched by G's step
    assert all(p.requires_grad for p in D.parameters())
    for p, w in zip(G.parameters(), want):  # the gradient G's optimiser stepped with
        assert torch.allclose(p.grad, w, atol=1e-6)
    with frozen(D):
        assert not any(p.requires_grad for p in D.parameters())
        with pytest.raises(RuntimeError, match="boom"):
            with frozen(G):
                raise RuntimeError("boom")
        assert all(p.requires_grad for p in G.parameters())  # restored, even after an error


def test_ema_generator_is_the_moving_average_and_draws_the_samples(tmp_path):
    torch.manual_seed(0)
    G, D = MnistGenerator(F=0.1), MnistDiscriminator(F=0.1)
    start = {k: v.clone() for k, v in G.state_dict().items()}
    t = GANTrainer(G, D, loss=BCELoss(), ema=0.75, device="cpu", amp=False, checkpoint_dir=tmp_path)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    t.train_step((x, torch.zeros(8, dtype=torch.long)))
    now = G.state_dict()
    for k, v in t.G_ema.state_dict().items():
        if k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            assert torch.equal(v, now[k])  # batch-norm statistics are copied
        else:  # the first update's decay is the warm-up's 1/10, below the asked 0.75
            assert torch.allclose(v, 0.1 * start[k] + 0.9 * now[k], atol=1e-6), k
    assert not any(p.requires_grad for p in t.G_ema.parameters())
    # samples come from the average, not from G
    z = torch.randn(4, 100)
    with torch.no_grad():
        assert torch.allclose(t.render(z), t.G_ema.eval()(z), atol=1e-6)
        assert not torch.allclose(t.render(z), G.eval()(z), atol=1e-3)
    # and it is saved and restored with the run
    t.save_checkpoint(tmp_path / "c.pt")
    u = GANTrainer(MnistGenerator(F=0.1), MnistDiscriminator(F=0.1), loss=BCELoss(), ema=0.75, device="cpu", amp=False)
    u.load_checkpoint(tmp_path / "c.pt")
    assert all(torch.equal(a, b) for a, b in zip(u.G_ema.state_dict().values(), t.G_ema.state_dict().values()))
    assert u.ema_updates == 1  # the warm-up continues where it was
    with pytest.raises(ValueError, match="ema is the decay"):
        GANTrainer(MnistGenerator(F=0.1), MnistDiscriminator(F=0.1), ema=1.0)


def test_ema_decay_warms_up_to_the_asked_decay():
    t = GANTrainer(MnistGenerator(F=0.1), MnistDiscriminator(F=0.1), ema=0.999, device="cpu", amp=False)
    seen = []
    for n in (0, 1, 8, 90, 8990, 8991, 20000):
        t.ema_updates = n
        seen.append(round(t.ema_decay(), 6))
    # (1 + n) / (10 + n) until it reaches 0.999, then 0.999
    assert seen == [0.1, round(2 / 11, 6), 0.5, round(91 / 100, 6), round(8991 / 9000, 6), 0.999, 0.999]


def test_gan_learning_rate_decays_linearly_over_the_runs_epochs(tmp_path):
    from labkit.data.core import ImageSet
    from labkit.runs import GANSpec, fit

    data = ImageSet(torch.rand(16, 1, 28, 28) * 2 - 1, torch.zeros(16, dtype=torch.long), ["0"], "tiny")
    spec = GANSpec("decay", "mnist", g_args={"F": 0.1}, d_args={"F": 0.1}, lr_g=0.01, lr_d=0.02, batch=8,
                   decay_from=0.5)
    t = fit(spec, data, 4, device="cpu", run_root=tmp_path)
    # factors per epoch 1, 1, 1, 1/2; after the 4th epoch the scheduler stands at 0
    assert [g["lr"] for g in t.optimizers["G"].param_groups] == [0.0]
    u = GANTrainer(MnistGenerator(F=0.1), MnistDiscriminator(F=0.1), lr_g=0.01, lr_d=0.02, epochs=4, decay_from=0.5,
                   device="cpu", amp=False)
    for k in ("G", "D"):
        assert [u.schedulers[k].lr_lambdas[0](e) for e in range(5)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    # the epochs are part of the run: asking for 5 is another run, in another folder
    assert fit(spec, data, 5, device="cpu", run_root=tmp_path).checkpoint_dir != t.checkpoint_dir
    with pytest.raises(ValueError, match="decay_from"):
        GANTrainer(MnistGenerator(F=0.1), MnistDiscriminator(F=0.1), decay_from=0.5)



def test_compile_wraps_the_trained_networks_in_place(tmp_path):
    # compile=True compiles each trained network in place (lazily, at its first call): the weights
    # keep their names, so checkpoints stay interchangeable, and the moving average's copy is left
    # alone. (benchmarks/bench_dcgan_reference.py --compile trains with it.)
    def gan(compile):
        torch.manual_seed(0)
        return GANTrainer(MnistGenerator(F=0.1), MnistDiscriminator(F=0.1), loss=BCELoss(), device="cpu", ema=0.9,
                          compile=compile)
    eager, compiled = gan(False), gan(True)
    assert weights(eager).keys() == weights(compiled).keys()
    assert compiled.models["G"]._compiled_call_impl is not None and compiled.models["D"]._compiled_call_impl is not None
    assert compiled.models["G_ema"]._compiled_call_impl is None and eager.models["G"]._compiled_call_impl is None
