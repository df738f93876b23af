"""FER2013 (Goodfellow et al., ICML 2013 representation-learning challenge): 48×48 grey faces
in seven expressions, in the two forms users have.

- The Kaggle CSV ``fer2013.csv``: columns ``emotion,pixels,Usage``, 2,304 space-separated grey
  levels per row, ``Usage`` one of Training / PublicTest / PrivateTest.
- The image-folder copy: ``train/<emotion>/*.jpg|png`` and ``test/<emotion>/...``. A file-name
  prefix ``Training_`` / ``PublicTest_`` / ``PrivateTest_`` gives the official split; a test file
  without one is put in the split ``"Test"``.

Every malformed input stops with an error naming the file (and row) and what was expected;
nothing is skipped except hidden files (``.DS_Store``). The parsed set is cached as tensors
(``$LABKIT_CACHE`` or ``~/.cache/labkit``), keyed by the source's names, sizes and times, so a
changed source is parsed again.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from labkit.data.core import ImageSet, announce, cached, files_key

CLASSES = ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]
SPLITS = ("Training", "PublicTest", "PrivateTest", "Test")
# class sizes of the whole set (all three splits), for reference in plots and tests
COUNTS = [4953, 547, 5121, 8989, 6077, 4002, 6198]
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def _split_of(name: str, folder: str) -> str:
    for s in ("Training", "PublicTest", "PrivateTest"):
        if name.startswith(s + "_"):
            return s
    return "Training" if folder == "train" else "Test"


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header][:3] != ["emotion", "pixels", "Usage"]:
            raise ValueError(f"{path}: the header must be 'emotion,pixels,Usage'; got {header!r}")
        images, labels, usage = [], [], []
        for row_no, row in enumerate(reader, start=2):
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
            try:
                arr = np.array([int(v) for v in values], dtype=np.int64)
            except ValueError:
                bad = next(v for v in values if not v.lstrip("-").isdigit())
                raise ValueError(f"{where}: pixels must be whole numbers 0-255; found {bad!r}") from None
            if arr.min() < 0 or arr.max() > 255:
                raise ValueError(f"{where}: pixels must be 0-255; found {int(arr.min())}..{int(arr.max())}")
            images.append(arr.astype(np.uint8).reshape(48, 48))
            labels.append(int(emotion))
            usage.append(use)
    if not images:
        raise ValueError(f"{path}: no rows after the header")
    return np.stack(images), np.array(labels), usage


def _folder_files(root: Path) -> list[tuple[Path, str, int]]:
    """(file, split, label) for every image under root/train and root/test, checked."""
    parts = {p.name.lower(): p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    if not {"train", "test"} & set(parts):
        raise FileNotFoundError(f"{root}: expected a train/ and/or test/ folder of emotion folders; found {sorted(parts) or 'none'}")
    names = {c.lower(): i for i, c in enumerate(CLASSES)}
    out = []
    for folder in ("train", "test"):
        if folder not in parts:
            continue
        for sub in sorted(parts[folder].iterdir()):
            if sub.name.startswith("."):
                continue
            if not sub.is_dir():
                raise ValueError(f"{sub}: expected only emotion folders in {parts[folder]}")
            if sub.name.lower() not in names:
                raise ValueError(f"{sub}: unknown emotion folder {sub.name!r}; expected one of {', '.join(c.lower() for c in CLASSES)}")
            for f in sorted(sub.iterdir()):
                if f.name.startswith("."):
                    continue
                if f.suffix.lower() not in _IMAGE_SUFFIXES or not f.is_file():
                    raise ValueError(f"{f}: not a .jpg or .png image")
                out.append((f, _split_of(f.name, folder), names[sub.name.lower()]))
    if not out:
        raise ValueError(f"{root}: no images found under train/ or test/")
    return out


def _read_folder(files: list[tuple[Path, str, int]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from PIL import Image, UnidentifiedImageError

    images = np.empty((len(files), 48, 48), dtype=np.uint8)
    for i, (f, _, _) in enumerate(files):
        try:
            with Image.open(f) as im:
                im.load()
                if im.size != (48, 48):
                    raise ValueError(f"{f}: expected a 48x48 image, got {im.size[0]}x{im.size[1]}")
                images[i] = np.asarray(im.convert("L"))
        except (UnidentifiedImageError, OSError) as err:
            raise ValueError(f"{f}: unreadable image ({err})") from err
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

    key = files_key(str(path.resolve()), [path] if files is None else [f for f, _, _ in files])
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
