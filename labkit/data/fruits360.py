"""Fruits-360 (Mureşan & Oltean, 2018): 100×100 RGB photos of fruits turning on a motor shaft,
on a white background, one folder per variety::

    <root>/Training/<Class name>/*.jpg      <root>/Test/<Class name>/*.jpg

Paper 002 trains one GAN per *fruit*, grouping the varieties by the first word of the class name
(``Apple Braeburn``, ``Apple Red 1`` … are Apple; ``Grapefruit Pink`` is not a Grape). The loader
returns either the fruits (``group=True``, the labels are fruits and ``meta["variety"]`` keeps each
image's variety) or the varieties themselves.

Every problem stops the load with a message naming the folder or file: a missing root or split,
an empty class, a file that is not a readable image or is not 100×100, and, by variety, a class
that one split has and Training lacks (or the reverse), since its label number would mean another
class there. Parsed images are cached as uint8 tensors (``$LABKIT_CACHE`` or ``~/.cache/labkit``),
keyed by the files' names, sizes and modification times and the requested size, so a changed copy
is read again; an image edited without changing its size, whose time is then put back, is not
seen (delete the cache). Hashing the images' bytes instead would cost about 0.3 s a load.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from labkit.data.core import ImageSet, announce, cached, files_key, read_image

FRUITS = ["Apple", "Banana", "Grape", "Tomato"]
SPLITS = ("Training", "Test")
SIDE = 100
_SUFFIXES = {".jpg", ".jpeg", ".png"}
# paper 002's image counts per fruit (its release) and those of the 2019.05.06.1 release's Training split
PAPER_COUNTS = {"Apple": 6405, "Banana": 1430, "Grape": 3419, "Tomato": 5103}


def fruit_of(class_name: str) -> str:
    """The fruit a Fruits-360 class belongs to: its first word (``Grapefruit`` stays Grapefruit)."""
    return class_name.split()[0]


def _split_dir(root: Path, split: str) -> Path:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    if not root.exists():
        raise FileNotFoundError(
            f"{root} does not exist. Download Fruits-360 (https://github.com/fruits-360 or Kaggle 'moltean/fruits') "
            f"and pass the folder that holds Training/ and Test/, or use data_dir=None for the stand-in drawn by labkit."
        )
    d = root / split
    if not d.is_dir():
        found = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise FileNotFoundError(f"{d}: no {split}/ folder in {root} (found {found or 'no folders'}); expected Training/ and Test/")
    return d


def class_names(root: str | Path, split: str = "Training") -> list[str]:
    """The class (variety) folders of a split, sorted."""
    d = _split_dir(Path(root).expanduser(), split)
    return sorted(p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))


def select_classes(names: Sequence[str], fruits: Sequence[str] | None = None,
                   classes: Sequence[str] | None = None) -> list[str]:
    """The varieties to read: ``classes`` by name, or every class whose fruit is in ``fruits``."""
    if classes is not None:
        missing = [c for c in classes if c not in names]
        if missing:
            raise ValueError(f"unknown Fruits-360 classes {missing}; the copy has {len(names)} classes, e.g. {list(names)[:5]}")
        return list(classes)
    fruits = list(fruits or FRUITS)
    chosen = [c for c in names if fruit_of(c) in fruits]
    empty = [f for f in fruits if not any(fruit_of(c) == f for c in chosen)]
    if empty:
        raise ValueError(f"no Fruits-360 class starts with {empty}; fruits present: {sorted({fruit_of(c) for c in names})}")
    return chosen


def _files(split_dir: Path, chosen: Sequence[str]) -> list[tuple[Path, int]]:
    out = []
    for v, name in enumerate(chosen):
        folder = split_dir / name
        files = sorted(f for f in folder.iterdir() if not f.name.startswith("."))
        for f in files:
            if f.suffix.lower() not in _SUFFIXES or not f.is_file():
                raise ValueError(f"{f}: not a .jpg or .png image (Fruits-360 class folders hold only images)")
        if not files:
            raise ValueError(f"{folder}: the class {name!r} has no images")
        out += [(f, v) for f in files]
    return out


def _read(files: list[tuple[Path, int]], size: int) -> torch.Tensor:
    from PIL import Image

    out = np.empty((len(files), size, size, 3), dtype=np.uint8)
    for i, (f, _) in enumerate(files):
        im = read_image(f, "RGB")
        if im.size != (SIDE, SIDE):
            raise ValueError(f"{f}: expected a {SIDE}x{SIDE} image (Fruits-360), got {im.size[0]}x{im.size[1]}")
        if size != SIDE:
            im = im.resize((size, size), Image.BICUBIC, reducing_gap=None)
        out[i] = np.asarray(im)
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def _same_varieties(root: Path, split: str, chosen: list[str], fruits: Sequence[str] | None) -> None:
    """By variety, label ``v`` is the ``v``-th class chosen: ``split`` must hold the classes that
    Training holds, or a label number would mean another class there."""
    if not (root / "Training").is_dir():
        return
    training = select_classes(class_names(root, "Training"), fruits)
    if chosen != training:
        raise ValueError(
            f"{root / split}: by variety (group=False) a label number must mean the same class in Training and {split}; "
            f"only in {split}: {[c for c in chosen if c not in training] or 'none'}; "
            f"only in Training: {[c for c in training if c not in chosen] or 'none'}; pass classes=[...] to choose them")


def load_fruits360(root: str | Path, split: str = "Training", fruits: Sequence[str] | None = None,
                   classes: Sequence[str] | None = None, group: bool = True, size: int = SIDE,
                   quiet: bool = False, use_cache: bool = True) -> ImageSet:
    """One split of Fruits-360 as an :class:`ImageSet` in [-1, 1], (N, 3, size, size).

    ``fruits``: the fruits to read (default paper 002's Apple, Banana, Grape, Tomato: every class
    whose first word is one of them); ``classes``: exact class names instead. ``group``: label by
    fruit (paper 002) or by variety. ``size``: resize from 100×100 (bicubic) when smaller."""
    root = Path(root).expanduser()
    if not 8 <= size <= SIDE:
        raise ValueError(f"size must be in [8, {SIDE}] (Fruits-360 images are {SIDE}x{SIDE}); got {size}")
    split_dir = _split_dir(root, split)
    names = class_names(root, split)
    chosen = select_classes(names, fruits, classes)
    if not group and classes is None and split != "Training":
        _same_varieties(root, split, chosen, fruits)
    files = _files(split_dir, chosen)
    key = files_key(f"{root.resolve()}|{size}", [f for f, _ in files], [v for _, v in files])
    x = cached("fruits360", key, lambda: {"x": _read(files, size)}, use_cache)["x"]
    variety = torch.tensor([v for _, v in files], dtype=torch.long)
    if group:
        labels = sorted({fruit_of(c) for c in chosen}, key=lambda f: (FRUITS + [f]).index(f))
        y = torch.tensor([labels.index(fruit_of(chosen[v])) for v in variety.tolist()], dtype=torch.long)
    else:
        labels, y = list(chosen), variety
    s = ImageSet(x.float() / 127.5 - 1.0, y, labels, f"Fruits-360 {split} at {root} ({len(y):,} images, {size}x{size})",
                 {"variety": variety, "varieties": list(chosen)})
    if not quiet:
        counts = ", ".join(f"{c} {n:,}" for c, n in zip(labels, s.counts()))
        announce(f"using Fruits-360 {split} from {root}: {len(s):,} images of {len(chosen)} classes ({counts}) at {size}x{size}")
    return s
