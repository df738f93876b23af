"""A folder of face photos as an :class:`ImageSet`, for the DCGAN sanity check of paper 003:
CelebA in torchvision's layout (``<root>/celeba/img_align_celeba/*.jpg``) or any folder of
images (searched recursively). Each image is centre-cropped to a square and resized, as the
DCGAN tutorial does with CelebA. Unreadable files stop the load with their name."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from labkit.data.core import ImageSet, announce, read_image

_SUFFIXES = {".jpg", ".jpeg", ".png"}


def face_files(root: str | Path) -> list[Path]:
    """The image files of a CelebA copy (torchvision's layout) or of any folder, sorted."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder (expected CelebA in torchvision's layout or a folder of images)")
    for candidate in (root / "celeba" / "img_align_celeba", root / "img_align_celeba"):
        if candidate.is_dir():
            root = candidate
            break
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in _SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"{root}: no .jpg or .png images found")
    return files


def load_faces(root: str | Path, size: int = 64, channels: int = 3, max_images: int | None = None,
               quiet: bool = False) -> ImageSet:
    """Up to ``max_images`` faces (the first in sorted order) as (N, channels, size, size) in
    [-1, 1]; every image is one class, "face"."""
    from PIL import Image

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB); got {channels}")
    files = face_files(root)[:max_images]
    out = np.empty((len(files), size, size, channels), dtype=np.uint8)
    for i, path in enumerate(files):
        img = read_image(path, "RGB" if channels == 3 else "L", "not a readable image")
        w, h = img.size
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        out[i] = np.asarray(img.resize((size, size), Image.BILINEAR)).reshape(size, size, channels)
    x = torch.from_numpy(out).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    s = ImageSet(x, torch.zeros(len(files), dtype=torch.long), ["face"], f"{len(files):,} faces from {root} at {size}x{size}")
    if not quiet:
        announce(f"using {s.source}")
    return s
