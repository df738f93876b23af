"""Runs that go wrong stop clearly and lose nothing: divergence (not only NaN), corrupt
checkpoints that say what to do, and fresh=True that deletes a run's checkpoint on purpose."""
import pytest
import torch

from labkit.experiments import mnist as ch
from labkit.runs import fit
from labkit.train import CheckpointError, DivergenceError
from labkit.train.core import CHECKPOINT


def test_a_diverging_gan_stops_and_keeps_its_last_good_checkpoint(tmp_path, mnist_small):
    """lr 1e6 sends losses to 1e17 and weights to 1e28 without a NaN; the run must stop."""
    data = mnist_small.take(128, seed=0)
    good = ch.gan_spec(F=0.1, D=1, B=64, lr=2e-3, conditional=False)
    kept = fit(good, data, 1, device="cpu", run_root=tmp_path).checkpoint_dir / CHECKPOINT
    bad = ch.gan_spec(F=0.1, D=1, B=64, lr=1e6, conditional=False)
    with pytest.raises(DivergenceError, match="diverged|beyond") as err:
        fit(bad, data, 3, device="cpu", run_root=tmp_path)
    assert "smaller learning rate" in str(err.value) or "lower learning rate" in str(err.value)
    assert list(tmp_path.glob(f"*/{CHECKPOINT}")) == [kept]  # nothing saved from the diverged run


def test_a_diverging_classifier_stops_too(tmp_path, mnist_small):
    with pytest.raises(DivergenceError):
        fit(ch.lenet_spec(lr=1e6), mnist_small.take(256, seed=0), 3, device="cpu", run_root=tmp_path)


def test_a_corrupt_checkpoint_names_itself_and_the_way_out_and_fresh_restarts(tmp_path, mnist_small, capsys):
    data, spec = mnist_small.take(64, seed=0), ch.lenet_spec()
    first = fit(spec, data, 1, device="cpu", run_root=tmp_path)
    path = first.checkpoint_dir / CHECKPOINT
    path.write_bytes(path.read_bytes()[:200])  # a truncated file
    with pytest.raises(CheckpointError) as err:
        fit(spec, data, 2, device="cpu", run_root=tmp_path)
    assert str(path) in str(err.value) and "fresh=True" in str(err.value) and "run_root" in str(err.value)
    again = fit(spec, data, 1, device="cpu", run_root=tmp_path, fresh=True)
    assert again.resumed_from is None and again.epoch == 1 and path.exists()
    assert f"fresh=True: deleted {path}" in capsys.readouterr().out
    a, b = first.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the same seed trains the same first epoch again
