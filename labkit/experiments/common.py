"""Helpers every chapter's recipes share: FER2013 loading, one-class subsets and class images."""
from __future__ import annotations

from typing import Sequence

import torch

from labkit.data.core import ImageSet
from labkit.train import GANTrainer

FER_STANDIN_SEEDS = {"Training": 0, "PublicTest": 1, "PrivateTest": 2}


def load_fer(P, splits: Sequence[str] = ("Training", "PrivateTest"), test_size: int | None = None) -> list[ImageSet]:
    """FER2013's ``splits`` from ``P.data_dir`` (fer2013.csv or the image-folder copy), or, without
    it, labkit's drawn stand-in: ``P.n_standin`` training faces and ``test_size`` (default
    ``P.n_standin_test``) in every other split, one fixed draw per split, with ``P.label_noise``
    where the chapter has that parameter. Only the first split announces where the data came from.
    The first split sizes the chapter's epochs (:meth:`labkit.params.Params.size_to`)."""
    if P.data_dir is not None:
        from labkit.data.fer2013 import load_fer2013

        sets = [load_fer2013(P.data_dir, split, quiet=i > 0) for i, split in enumerate(splits)]
    else:
        from labkit.data.fer_standin import make_fer_standin

        noise = {"label_noise": P.label_noise} if "label_noise" in P else {}
        sets = [make_fer_standin(P.n_standin if split == "Training" else (test_size or P.n_standin_test),
                                 seed=FER_STANDIN_SEEDS[split], quiet=i > 0, **noise) for i, split in enumerate(splits)]
    P.size_to(len(sets[0]), "training faces")
    return sets


def one_class(data: ImageSet, c: int) -> ImageSet:
    """The images of class ``c`` alone, as a one-class set (for a GAN trained on one class)."""
    name = data.classes[c]
    members = torch.nonzero(data.y == c).flatten()
    if len(members) < 2:
        raise ValueError(f"{data.source}: class {name} has {len(members)} images; a GAN needs at least 2")
    return ImageSet(data.x[members], torch.zeros(len(members), dtype=torch.long), [name], f"{data.source}, {name} only")


def class_images(gans: "dict[int, GANTrainer] | GANTrainer", c: int, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` images of class ``c``: from that class's own GAN (``gans`` a dict class → trainer)
    or from a class-conditional GAN; the noise seed is ``seed + c``."""
    if isinstance(gans, dict):
        return gans[c].generate(n, seed=seed + c)
    return gans.generate(n, torch.full((n,), c, dtype=torch.long), seed=seed + c)
