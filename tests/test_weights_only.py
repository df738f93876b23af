"""Every file labkit reads with torch.load is read with ``weights_only=True``, said explicitly
(not left to torch's default, which was False before torch 2.6), so a pickle payload in a
checkpoint, a dataset cache entry or a weights file is refused before it runs.

Each test plants a file whose unpickling would create a sentinel folder, reads it the way labkit
does, and checks that the sentinel does not exist and that labkit says so clearly; a recording
torch.load checks the keyword at the call site."""
import os
import pickle
import warnings

import pytest
import torch
from torch import nn


class Payload:
    """Unpickling this runs os.mkdir(sentinel)."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (os.mkdir, (self.sentinel,))


def plant(path, sentinel, wrap=lambda p: p):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(wrap(Payload(sentinel)), path)
    return path


@pytest.fixture
def loads(monkeypatch):
    """The keyword arguments of every torch.load call, recorded on the way to the real one."""
    calls = []
    real = torch.load

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", recording)
    return calls


def said_weights_only(calls):
    return len(calls) >= 1 and all(c.get("weights_only") is True for c in calls)


def test_the_payload_runs_when_unpickled_in_full(tmp_path):
    """The control: without weights_only the planted file does run its payload."""
    path = plant(tmp_path / "evil.pt", tmp_path / "ran")
    torch.load(path, weights_only=False)
    assert (tmp_path / "ran").is_dir()


def test_a_checkpoint_with_a_payload_is_refused_unrun(tmp_path, loads):
    from labkit.train import GANTrainer
    from labkit.train.core import CHECKPOINT

    def trainer(checkpoint_dir=None):
        G = nn.Sequential(nn.Linear(4, 4), nn.Unflatten(1, (1, 2, 2)))
        D = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
        return GANTrainer(G, D, nz=4, n_fixed=4, device="cpu", checkpoint_dir=checkpoint_dir)

    sentinel = tmp_path / "ran"
    path = plant(tmp_path / "run" / CHECKPOINT, sentinel, wrap=lambda p: {"format": 1, "models": p})
    with pytest.raises(RuntimeError, match="not a readable labkit checkpoint") as err:
        trainer().load_checkpoint(path)
    assert str(path) in str(err.value) and "Unpickling" in str(err.value)
    assert not sentinel.exists() and said_weights_only(loads)
    # and the way a run meets it: resuming from its folder
    from labkit.train import BatchSource

    loads.clear()
    with pytest.raises(RuntimeError, match="not a readable labkit checkpoint"):
        trainer(tmp_path / "run").fit(BatchSource(torch.zeros(8, 1, 2, 2), torch.zeros(8, dtype=torch.long), batch_size=4), 1)
    assert not sentinel.exists() and said_weights_only(loads)


def test_a_dataset_cache_entry_with_a_payload_is_refused_unrun_and_parsed_again(tmp_path, loads):
    from labkit.data.core import cache_dir, cached

    sentinel = tmp_path / "ran"
    path = plant(cache_dir() / "toy-key.pt", sentinel, wrap=lambda p: {"x": p})
    data = {"x": torch.arange(3.0)}
    with pytest.warns(UserWarning, match="refused unread") as said:
        got = cached("toy", "key", lambda: data)
    assert str(path) in str(said[0].message)
    assert not sentinel.exists() and said_weights_only(loads)
    assert torch.equal(got["x"], data["x"])
    loads.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten entry reads cleanly
        again = cached("toy", "key", lambda: pytest.fail("parsed again although the cache holds the data"))
    assert torch.equal(again["x"], data["x"]) and said_weights_only(loads)


def test_lenet_weights_with_a_payload_are_refused_unrun(tmp_path, loads):
    from labkit.experiments.mnist import load_lenet

    sentinel = tmp_path / "ran"
    path = plant(tmp_path / "lenet.pt", sentinel, wrap=lambda p: {"conv1.weight": p})
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load_lenet(path)
    assert not sentinel.exists() and said_weights_only(loads)


def test_inception_weights_with_a_payload_are_refused_unrun(tmp_path, loads):
    from labkit.models import FIDInceptionV3

    sentinel = tmp_path / "ran"
    path = plant(tmp_path / "inception.pth", sentinel, wrap=lambda p: {"fc.weight": p})
    with pytest.raises(ValueError, match="inception.pth: not a state dict of the FID Inception-v3") as err:
        FIDInceptionV3(path)
    assert "Weights only load failed" in str(err.value)
    assert not sentinel.exists() and said_weights_only(loads)


def test_downloaded_inception_weights_are_read_with_weights_only(tmp_path, monkeypatch, loads):
    """'download' finds the file in torch.hub's cache when it is there (no network); a file
    planted there must not run either."""
    from labkit.models import FIDInceptionV3
    from labkit.models.fid_inception import WEIGHTS_FILE

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    sentinel = tmp_path / "ran"
    plant(tmp_path / "torch" / "hub" / "checkpoints" / WEIGHTS_FILE, sentinel, wrap=lambda p: {"fc.weight": p})
    with pytest.raises(ValueError, match="not a state dict of the FID Inception-v3"):
        FIDInceptionV3("download")
    assert not sentinel.exists() and said_weights_only(loads)
