"""The :class:`ImageSet` container and helpers shared by every dataset."""
from __future__ import annotations

import csv
import hashlib
import os
import pickle
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
from PIL import Image


def announce(line: str) -> None:
    """Print the one visible line that says which data a chapter is using."""
    print(f"[labkit data] {line}", flush=True)


def tensor_fingerprint(*tensors: torch.Tensor) -> str:
    """A short hash of the tensors' contents (in order): equal fingerprints, equal data."""
    h = hashlib.sha1()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


# what reading a file can raise without saying which file: a broken or truncated gzip stream, an
# undecodable byte, a malformed CSV line, a damaged or oversized image
_READ_ERRORS = (OSError, EOFError, SyntaxError, UnicodeError, zlib.error, csv.Error, Image.DecompressionBombError)


@contextmanager
def naming(path: Path, what: str, row: Callable[[], object] | None = None) -> Iterator[None]:
    """Turn a reading error inside the block into a ValueError that names ``path`` (and
    ``row()``, the row being read) and says ``what`` was expected; the original error follows
    in brackets. Every loader reads its files inside one, so no raw decoder error escapes."""
    try:
        yield
    except _READ_ERRORS as err:
        where = f"{path}, row {row()}" if row else str(path)
        raise ValueError(f"{where}: {what} ({type(err).__name__}: {err})") from err


def read_image(path: Path, mode: str, what: str = "unreadable image") -> Image.Image:
    """The image at ``path``, decoded and converted to ``mode`` ("L" or "RGB"). A 16-bit grey
    image is scaled from 0..65535 to 0..255 (Pillow's own conversion would clip it at 255)."""
    with naming(path, what), Image.open(path) as im:
        if not im.mode.startswith("I"):  # I;16: 16-bit grey; I: 32-bit integers
            return im.convert(mode)
        a = np.asarray(im, dtype=np.int64)
    if a.min() < 0 or a.max() > 65535:
        raise ValueError(f"{path}: grey levels {a.min()}..{a.max()} do not fit 16 bits; expected an 8- or 16-bit image")
    return Image.fromarray(np.round(a / 257).astype(np.uint8), "L").convert(mode)


def cache_dir() -> Path:
    """Where parsed datasets are cached: ``$LABKIT_CACHE`` or ``~/.cache/labkit``."""
    return Path(os.environ.get("LABKIT_CACHE", Path.home() / ".cache" / "labkit"))


def files_key(header: str, files: Iterable[Path], tags: Iterable[object] | None = None,
              contents: bool = False) -> str:
    """A cache key for data parsed from ``files``: their names, sizes and modification times
    (and a tag per file, e.g. its label), after ``header`` (the source and any settings), so a
    changed source is parsed again. ``contents=True`` hashes the files' bytes as well, so even an
    edit that keeps the size and puts the time back is seen (0.2 s for the 300 MB FER2013 CSV,
    against 13 s to parse it). Without it, such an edit returns the old data."""
    h = hashlib.sha1(header.encode())
    tags = list(tags) if tags is not None else None
    for i, f in enumerate(files):
        st = f.stat()
        tag = f"|{tags[i]}" if tags is not None else ""
        h.update(f"{f}{tag}|{st.st_size}|{st.st_mtime_ns}".encode())
        if contents:
            with open(f, "rb") as data:
                while block := data.read(1 << 20):
                    h.update(block)
    return h.hexdigest()[:16]


_unwritable: set[Path] = set()  # cache folders already reported as unwritable


def _read_entry(path: Path) -> dict[str, torch.Tensor] | None:
    """The tensors of a cache entry; None when there is none, or (said in a warning naming it)
    when it cannot be read."""
    try:
        if not path.is_file():
            return None
        state = torch.load(path, map_location="cpu", weights_only=True)
        ok = isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
        why = "" if ok else f"it holds a {type(state).__name__}, not a dict of tensors"
    except pickle.UnpicklingError:
        why = "it holds objects other than tensors, refused unread"
    except Exception as err:  # noqa: BLE001 - a cache entry is disposable: any failure means parse again
        why = f"{type(err).__name__}: {(str(err).strip() or 'truncated').splitlines()[0]}"
    if why:
        warnings.warn(f"{path}: unreadable dataset cache entry ({why}); parsing the source again and rewriting it", stacklevel=4)
        return None
    return state


def cached(name: str, key: str, build: Callable[[], dict[str, torch.Tensor]], use_cache: bool = True) -> dict[str, torch.Tensor]:
    """The tensors ``build()`` returns, read from ``cache_dir()/<name>-<key>.pt`` when it exists
    (``weights_only``) and written there atomically otherwise.

    The cache never stops a load: an entry that cannot be read (truncated, corrupt, or holding
    anything but tensors) is reported with its path, parsed again and rewritten; a cache folder
    that cannot be written is reported once, and the data is returned without caching."""
    from labkit.train.core import atomic_save

    path = cache_dir() / f"{name}-{key}.pt"
    state = _read_entry(path) if use_cache else None
    if state is not None:
        return state
    state = build()
    if use_cache:
        try:
            atomic_save(state, path)
        except OSError as err:
            if path.parent not in _unwritable:
                _unwritable.add(path.parent)
                warnings.warn(f"cannot write the dataset cache in {path.parent} ({err}); loading without caching "
                              f"(set LABKIT_CACHE to a writable folder to cache parsed data)", stacklevel=3)
    return state


@dataclass
class ImageSet:
    x: torch.Tensor  # float32 (N, C, H, W) in [-1, 1]
    y: torch.Tensor  # int64 (N,)
    classes: list[str]
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.x.ndim != 4:
            raise ValueError(f"ImageSet.x must be (N, C, H, W); got shape {tuple(self.x.shape)}")
        if self.y.ndim != 1 or len(self.y) != len(self.x):
            raise ValueError(f"ImageSet.y must be (N,) with N={len(self.x)}; got shape {tuple(self.y.shape)}")
        if len(self.y) and (int(self.y.min()) < 0 or int(self.y.max()) >= len(self.classes)):
            raise ValueError(
                f"labels must lie in 0..{len(self.classes) - 1} for classes {self.classes}; "
                f"got {int(self.y.min())}..{int(self.y.max())}"
            )

    def __len__(self) -> int:
        return len(self.y)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x.shape[1:])  # type: ignore[return-value]

    def fingerprint(self) -> str:
        """A short hash of the images and labels: two sets with one fingerprint hold the same data
        (run folders use it, so a classifier trained on other images never resumes this one)."""
        return tensor_fingerprint(self.y, self.x)

    def counts(self) -> list[int]:
        return torch.bincount(self.y, minlength=len(self.classes)).tolist()

    def subset(self, index: torch.Tensor | Sequence[int], source: str | None = None) -> "ImageSet":
        index = torch.as_tensor(index, dtype=torch.long)
        return ImageSet(self.x[index], self.y[index], list(self.classes), source or self.source, dict(self.meta))

    def of_class(self, c: int) -> torch.Tensor:
        return self.x[self.y == c]

    def take(self, n: int, seed: int = 0, stratified: bool = True) -> "ImageSet":
        """A random subset of ``n`` items, keeping class proportions when ``stratified``."""
        if n > len(self):
            raise ValueError(f"asked for {n} items of a set of {len(self)}")
        g = torch.Generator().manual_seed(seed)
        if not stratified:
            return self.subset(torch.randperm(len(self), generator=g)[:n])
        counts = torch.tensor(self.counts(), dtype=torch.float64)
        want = torch.floor(counts / counts.sum() * n).long()
        # hand the remainder to the classes with the largest fractional parts
        rest = n - int(want.sum())
        frac = counts / counts.sum() * n - want
        want[torch.argsort(frac, descending=True)[:rest]] += 1
        idx = []
        for c in range(len(self.classes)):
            members = torch.nonzero(self.y == c).flatten()
            idx.append(members[torch.randperm(len(members), generator=g)[: int(want[c])]])
        return self.subset(torch.cat(idx))

    def split(self, fraction: float, seed: int = 0) -> tuple["ImageSet", "ImageSet"]:
        """A stratified split into (first, second) with ``fraction`` of each class in the first."""
        if not 0 < fraction < 1:
            raise ValueError(f"fraction must be in (0, 1); got {fraction}")
        g = torch.Generator().manual_seed(seed)
        first, second = [], []
        for c in range(len(self.classes)):
            members = torch.nonzero(self.y == c).flatten()
            members = members[torch.randperm(len(members), generator=g)]
            k = int(round(fraction * len(members)))
            first.append(members[:k])
            second.append(members[k:])
        return self.subset(torch.cat(first)), self.subset(torch.cat(second))


def concat(*sets: ImageSet, source: str | None = None) -> ImageSet:
    """One set holding all of ``sets`` (which must share classes and image shape)."""
    first = sets[0]
    for s in sets[1:]:
        if s.classes != first.classes or s.shape != first.shape:
            raise ValueError(f"cannot join {s.source!r} ({s.classes}, {s.shape}) to {first.source!r} ({first.classes}, {first.shape})")
    return ImageSet(torch.cat([s.x for s in sets]), torch.cat([s.y for s in sets]), list(first.classes),
                    source or " + ".join(s.source for s in sets), dict(first.meta))


def mix_real_synthetic(
    real: ImageSet,
    synthetic: ImageSet,
    real_fraction: float | Sequence[float],
    per_class: int | None = None,
    seed: int = 0,
) -> ImageSet:
    """A training set with the same number of images per class as ``real`` (or ``per_class``),
    of which ``real_fraction`` (one number, or one per class) are real and the rest synthetic.

    This is the comparison of paper 004, section 4: the total and the per-class counts stay
    fixed, only the share of real images changes.
    """
    k = len(real.classes)
    fractions = [float(real_fraction)] * k if isinstance(real_fraction, (int, float)) else list(real_fraction)
    if len(fractions) != k or any(not 0 <= f <= 1 for f in fractions):
        raise ValueError(f"real_fraction must be one number or {k} numbers in [0, 1]; got {real_fraction!r}")
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for c, f in enumerate(fractions):
        r = real.of_class(c)
        s = synthetic.of_class(c)
        n = per_class if per_class is not None else len(r)
        n_real = int(round(f * n))
        if n_real > len(r) or n - n_real > len(s):
            raise ValueError(
                f"class {real.classes[c]}: need {n_real} real and {n - n_real} synthetic images, "
                f"have {len(r)} real and {len(s)} synthetic"
            )
        xs += [r[torch.randperm(len(r), generator=g)[:n_real]], s[torch.randperm(len(s), generator=g)[: n - n_real]]]
        ys.append(torch.full((n,), c, dtype=torch.long))
    x, y = torch.cat(xs), torch.cat(ys)
    order = torch.randperm(len(y), generator=g)
    return ImageSet(x[order], y[order], list(real.classes), f"{real.source} mixed with synthetic")
