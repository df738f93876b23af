import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("LABKIT_PROGRESS", "off")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LABKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path, monkeypatch):
    """Every test writes its run folders under its own temporary directory."""
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LABKIT_PROGRESS", "off")


@pytest.fixture(scope="session")
def mnist_small():
    """A small slice of the embedded (real) MNIST sample: 60 digits per class."""
    from labkit.data.mnist import load_mnist

    return load_mnist(None, "train", quiet=True).take(600, seed=0)
