"""FER2013 (Goodfellow et al., ICML 2013 representation-learning challenge): 48×48 grey faces
in seven expressions, in the two forms users have.

- The Kaggle CSV ``fer2013.csv``: columns ``emotion,pixels,Usage``, 2,304 space-separated grey
  levels per row, ``Usage`` one of Training / PublicTest / PrivateTest. It may be gzip-compressed
  (``fer2013.csv.gz``) and start with a byte-order mark (as Excel saves it); blank rows (a trailing
  empty line) hold nothing and are passed over.
- The image-folder copy: ``train/<emotion>/*.jpg|png`` and ``test/<emotion>/...``. A file-name
  prefix ``Training_`` / ``PublicTest_`` / ``PrivateTest_`` gives the official split; a test file
  without one is put in the split ``"Test"``. 16-bit PNGs are scaled to 8 bits. Two folders whose
  names differ only by case (``train/`` and ``Train/``) are refused. An empty emotion folder, and
  a folder beside train/ and test/ (``val/``, which is not read), each give a warning naming it.

Every malformed input stops with an error naming the file (and row) and what was expected;
nothing else is skipped but hidden files (``.DS_Store``) and blank rows. The parsed set is cached
as tensors (``$LABKIT_CACHE`` or ``~/.cache/labkit``; see :func:`labkit.data.core.cached`), keyed by
the CSV's bytes, or by the names, sizes and modification times of a folder's images: an image
edited without changing its size, whose time is then put back, is not seen (delete the cache).
"""
from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from labkit.data.core import ImageSet, announce, cached, files_key, naming, read_image

CLASSES = ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]
SPLITS = ("Training", "PublicTest", "PrivateTest", "Test")
# class sizes of the whole set (all three splits), for reference in plots and tests
COUNTS = [4953, 547, 5121, 8989, 6077, 4002, 6198]
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
_NOT_PIXELS = re.compile(r"[^0-9\s]")  # anything but ASCII digits and spaces
_UNDECODED = re.compile("[\udc80-\udcff]")  # a byte that was not UTF-8 (kept by errors="surrogateescape")


def _split_of(name: str, folder: str) -> str:
    for s in ("Training", "PublicTest", "PrivateTest"):
        if name.startswith(s + "_"):
            return s
    return "Training" if folder == "train" else "Test"


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) for each row of a CSV file that holds anything, the header first.
    The file may be gzip-compressed whatever its name (``fer2013.csv.gz``) and may start with a
    UTF-8 byte-order mark (Excel's "CSV UTF-8"); a byte that is not UTF-8 stops with its row."""
    with naming(path, "not a readable file"):
        with open(path, "rb") as f:
            magic = f.read(4)
    if magic.startswith(b"PK\x03\x04"):
        raise ValueError(f"{path}: a zip archive, not a CSV file; unzip it and pass the fer2013.csv inside")
    gz = magic.startswith(b"\x1f\x8b")
    raw = gzip.open(path, "rb") if gz else open(path, "rb")
    # undecodable bytes become surrogates here, so the row that holds one can be named below
    with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
        reader = csv.reader(text)
        with naming(path, f"not a {'complete gzip-compressed' if gz else 'well-formed'} CSV file", lambda: max(reader.line_num, 1)):
            for row in reader:
                line = ",".join(row)
                if not line.isascii() and (byte := _UNDECODED.search(line)):
                    raise ValueError(f"{path}, row {reader.line_num}: byte {ord(byte.group()) - 0xDC00:#04x} is not UTF-8 text; "
                                     f"save the file as UTF-8 (in Excel: CSV UTF-8)")
                if any(field.strip() for field in row):
                    yield reader.line_num, row


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = _csv_rows(path)
    _, header = next(rows, (1, None))
    if header is None or [h.strip() for h in header][:3] != ["emotion", "pixels", "Usage"]:
        raise ValueError(f"{path}: the header must be 'emotion,pixels,Usage'; got {header!r}")
    images, labels, usage = [], [], []
    for row_no, row in rows:
        where = f"{path}, row {row_no}"
        if len(row) != 3:
            raise ValueError(f"{where}: expected 3 fields (emotion,pixels,Usage), got {len(row)}")
        emotion, pixels, use = (v.strip() for v in row)
        if emotion not in {str(i) for i in range(7)}:
            raise ValueError(f"{where}: emotion must be 0-6 ({', '.join(f'{i} {c}' for i, c in enumerate(CLASSES))}); got {emotion!r}")
        if use not in SPLITS[:3]:
            raise ValueError(f"{where}: Usage must be Training, PublicTest or PrivateTest; got {use!r}")
        values = pixels.split()
        if len(values) != 48 * 48:
            raise ValueError(f"{where}: expected 2304 pixels (48x48), got {len(values)}")
        if _NOT_PIXELS.search(pixels):  # int() would take 1_2 as 12 and Arabic-Indic digits as numbers
            bad = next(v for v in values if not (v.isascii() and v.isdigit()))
            raise ValueError(f"{where}: pixels must be whole numbers 0-255; found {bad!r} (expected ASCII digits)")
        arr = np.array([int(v) for v in values], dtype=np.int64)
        if arr.max() > 255:
            raise ValueError(f"{where}: pixels must be 0-255; found {int(arr.min())}..{int(arr.max())}")
        images.append(arr.astype(np.uint8).reshape(48, 48))
        labels.append(int(emotion))
        usage.append(use)
    if not images:
        raise ValueError(f"{path}: no rows after the header")
    return np.stack(images), np.array(labels), usage


def _by_lower_name(paths: Iterable[Path]) -> dict[str, Path]:
    """``paths`` by lower-case name; two names that differ only by case are refused (one of
    them would otherwise be left out, or both read as one)."""
    out: dict[str, Path] = {}
    for p in paths:
        if p.name.lower() in out:
            raise ValueError(f"{out[p.name.lower()]} and {p}: two folders whose names differ only by case; merge them into one")
        out[p.name.lower()] = p
    return out


def _folder_files(root: Path) -> list[tuple[Path, str, int]]:
    """(file, split, label) for every image under root/train and root/test, checked."""
    parts = _by_lower_name(p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith("."))
    if not {"train", "test"} & set(parts):
        raise FileNotFoundError(f"{root}: expected a train/ and/or test/ folder of emotion folders; found {sorted(parts) or 'none'}")
    for other in set(parts) - {"train", "test"}:
        warnings.warn(f"{parts[other]}: not a train/ or test/ folder; its images are not read", stacklevel=4)
    names = {c.lower(): i for i, c in enumerate(CLASSES)}
    out = []
    for folder in ("train", "test"):
        if folder not in parts:
            continue
        subs = [sub for sub in sorted(parts[folder].iterdir()) if not sub.name.startswith(".")]
        for sub in subs:
            if not sub.is_dir():
                raise ValueError(f"{sub}: expected only emotion folders in {parts[folder]}")
            if sub.name.lower() not in names:
                raise ValueError(f"{sub}: unknown emotion folder {sub.name!r}; expected one of {', '.join(c.lower() for c in CLASSES)}")
        for sub in _by_lower_name(subs).values():
            files = [f for f in sorted(sub.iterdir()) if not f.name.startswith(".")]
            if not files:
                warnings.warn(f"{sub}: an empty emotion folder; {parts[folder].name}/ has no {CLASSES[names[sub.name.lower()]]} images", stacklevel=4)
            for f in files:
                if f.suffix.lower() not in _IMAGE_SUFFIXES or not f.is_file():
                    raise ValueError(f"{f}: not a .jpg or .png image")
                out.append((f, _split_of(f.name, folder), names[sub.name.lower()]))
    if not out:
        raise ValueError(f"{root}: no images found under train/ or test/")
    return out


def _read_folder(files: list[tuple[Path, str, int]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    images = np.empty((len(files), 48, 48), dtype=np.uint8)
    for i, (f, _, _) in enumerate(files):
        im = read_image(f, "L")
        if im.size != (48, 48):
            raise ValueError(f"{f}: expected a 48x48 image, got {im.size[0]}x{im.size[1]}")
        images[i] = np.asarray(im)
    return images, np.array([lab for _, _, lab in files]), [s for _, s, _ in files]


def read_fer2013(path: str | Path, use_cache: bool = True) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """All of FER2013 at ``path`` (the CSV file or the folder): uint8 images (N, 48, 48),
    labels (N,), and each image's split."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist. Download FER2013 (Kaggle: 'Challenges in Representation Learning: Facial "
            f"Expression Recognition', fer2013.csv, or an image-folder copy with train/ and test/) and pass its path, "
            f"or use data_dir=None for the embedded stand-in."
        )
    files = None if path.is_file() else _folder_files(path)

    def parse():
        images, labels, usage = _read_csv(path) if files is None else _read_folder(files)
        return {"x": torch.from_numpy(images), "y": torch.from_numpy(labels.astype(np.int64)),
                "split": torch.tensor([SPLITS.index(u) for u in usage], dtype=torch.uint8)}

    # a CSV is keyed by its bytes too (hashing 300 MB takes 0.2 s); a folder by its files' names, sizes
    # and times (hashing 35,887 images would take 0.5 s warm, 3.6 s cold, against 0.14 s)
    key = files_key(str(path.resolve()), [path] if files is None else [f for f, _, _ in files], contents=files is None)
    state = cached("fer2013", key, parse, use_cache)
    return state["x"], state["y"], [SPLITS[i] for i in state["split"].tolist()]


def load_fer2013(path: str | Path, split: str = "Training", quiet: bool = False, use_cache: bool = True) -> ImageSet:
    """One split of FER2013 as an :class:`ImageSet` (images in [-1, 1], shape (N, 1, 48, 48)).

    ``split``: ``"Training"``, ``"PublicTest"``, ``"PrivateTest"``, ``"Test"`` (unprefixed test
    files of a folder copy), ``"test"`` (every non-training image) or ``"all"``.
    """
    choices = SPLITS + ("test", "all")
    if split not in choices:
        raise ValueError(f"split must be one of {', '.join(choices)}; got {split!r}")
    x, y, usage = read_fer2013(path, use_cache)
    if split == "all":
        keep = torch.ones(len(y), dtype=torch.bool)
    elif split == "test":
        keep = torch.tensor([u != "Training" for u in usage])
    else:
        keep = torch.tensor([u == split for u in usage])
    if not keep.any():
        raise ValueError(f"{path}: no images in split {split!r} (found {sorted(set(usage))})")
    images = x[keep].float().unsqueeze(1) / 127.5 - 1.0
    out = ImageSet(images, y[keep], list(CLASSES), f"FER2013 {split} from {path} ({int(keep.sum()):,} faces)")
    if not quiet:
        announce(f"using {out.source}")
    return out
