"""Paper 003 (Mo, "Project Report ECE 176"): the Radford DCGAN, a sanity check on a large face
set, then one generator per FER2013 expression; and the test of the paper's conclusion ("too few
samples per class") against one class-conditional DCGAN trained on every expression."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from labkit.data.core import ImageSet
from labkit.data.fer2013 import CLASSES
from labkit.experiments.common import class_images, load_fer, one_class
from labkit.metrics import FID, classifier_score, inception_score
from labkit.models import RadfordGenerator
from labkit.params import Param, Spec, subset
from labkit.report import paper_table, percent  # noqa: F401  (the chapter uses them as ch.*)
from labkit.runs import GANSpec, fit
from labkit.train import GANTrainer

PAPER = {
    "batch": 128,
    "lr": 2e-4,
    "beta1": 0.5,
    "celeba_epochs": 25,
    "fer_epochs": 50,
    "celeba_images": "about 200k",
    "per_expression_images": "about 5k",
    "observation": "CelebA faces good; FER2013 expressions blurry (grey images, too few samples per class)",
}

FER_DATA = ("FER2013: fer2013.csv or the image-folder copy; None: the stand-in drawn by labkit", "data/fer2013")

SPEC = Spec(
    Param("celeba_dir", "CelebA (torchvision's layout) or any folder of face photos for the sanity check; "
          "None: all FER faces pooled", None, None, str, nullable=True),
    Param("celeba_max", "faces read from celeba_dir (CelebA has 202,599)", 20000, 202599, int, low=100),
    Param("n_standin", "stand-in training faces (used when data_dir is None)", 4200, 28709, int, low=70),
    Param("expressions", "expressions that get their own generator (paper: all seven)", ["Happy", "Surprise", "Disgust"],
          list(CLASSES), list, items=str),
    Param("F", "capacity: 1 is the paper's 512-256-128-64 channels; quick: a quarter", 0.25, 1.0, float, low=0.01, high=4),
    Param("batch", "batch size (paper: 128)", 128, 128, int, low=2),
    Param("lr", "Adam learning rate, beta1 0.5 (paper: 0.0002; quick: higher, to learn in minutes)", 1e-3, 2e-4,
          float, low=1e-6, high=1),
    Param("sanity_epochs", "epochs of the sanity-check run (paper: 25 on CelebA)", 8, 25, int, low=1),
    Param("epochs", "epochs per expression (paper: 50; quick on FER2013: more epochs of a share of the faces)",
          20, 50, int, low=1, real=80),
    Param("cgan_epochs", "epochs of the conditional DCGAN on all expressions", 8, 50, int, low=1, real=20),
    Param("clf_F", "capacity of the FER classifier whose features score the faces", 0.125, 1.0, float, low=0.01, high=4),
    Param("clf_epochs", "epochs of that classifier (quick on FER2013: more epochs of a share of the faces)", 5, 30, int,
          low=1, real=20),
    Param("n_eval", "generated faces per expression behind each score (fewer when the class has fewer real faces)",
          200, 1000, int, low=20),
    data=FER_DATA,
    epoch_images=4200,
    check=lambda P: subset(P, "expressions", CLASSES),
)


def map_sizes(G: RadfordGenerator) -> list[int]:
    """The side of the generator's map after each transposed convolution."""
    x, sizes = torch.zeros(1, G.nz + G.num_classes, 1, 1), []
    for m in G.net:
        x = m(x)
        if isinstance(m, torch.nn.ConvTranspose2d):
            sizes.append(x.shape[-1])
    return sizes


def load(P) -> tuple[ImageSet, ImageSet]:
    """(train, test) FER faces: FER2013's Training and PrivateTest, or the stand-in."""
    return tuple(load_fer(P, ("Training", "PrivateTest"), test_size=P.n_standin // 4))


def sanity_set(P, train: ImageSet) -> ImageSet:
    """The large face set of the sanity check: CelebA (or another photo folder) at 64×64×3 when
    ``celeba_dir`` is given; otherwise every FER face pooled, expressions ignored."""
    if P.celeba_dir is not None:
        from labkit.data.faces import load_faces

        return load_faces(P.celeba_dir, size=64, channels=3, max_images=P.celeba_max)
    pooled = ImageSet(train.x, torch.zeros(len(train), dtype=torch.long), ["face"],
                      f"all {len(train):,} FER faces pooled ({train.source})")
    print(f"[labkit data] no celeba_dir given: the sanity check uses {pooled.source}, not CelebA")
    return pooled


def dcgan_spec(name: str, *, F: float, batch: int, lr: float, conditional: bool = False, num_classes: int = 0,
               seed: int = 0) -> GANSpec:
    """The Radford DCGAN (BCE, Adam β1 0.5), sized by ``fit`` to the data's images (64×64×3 or
    48×48×1); class-conditional on the data's labels when asked. One fixed noise batch (the
    same for every run) is drawn after each epoch: 36 images, or 8 per class."""
    return GANSpec(name, "radford", g_args={"F": F}, d_args={"F": F}, conditional=conditional, loss="bce",
                   lr_g=lr, lr_d=lr, batch=batch, n_fixed=8 * num_classes if conditional else 36, seed=seed)


def per_expression(train: ImageSet, expressions: Sequence[str], epochs: int, *, run=None, **spec) -> dict[int, GANTrainer]:
    """One DCGAN per expression (:func:`dcgan_spec` with ``spec``), each on that expression's
    faces only (the paper's setup)."""
    out = {}
    for name in expressions:
        if name not in train.classes:
            raise ValueError(f"unknown expression {name!r}; the classes are {train.classes}")
        c = train.classes.index(name)
        out[c] = fit(dcgan_spec(f"dcgan-{name.lower()}", **spec), one_class(train, c), epochs, **(run or {}))
    return out


def evaluate(gans: dict[int, GANTrainer] | GANTrainer, classes: Sequence[int], classifier: torch.nn.Module,
             train: ImageSet, n_eval: int, seed: int = 0):
    """Per expression: N (generated = real reference faces, capped by the class's real faces),
    FID to that class's real training faces and Inception Score, both on the classifier, and
    how often the classifier recognises the intended expression. Returns (table, images)."""
    import pandas as pd

    rows, images = [], {}
    for c in classes:
        real = train.of_class(c)
        n = min(n_eval, len(real))
        fake = images[c] = class_images(gans, c, n, seed)
        ref = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:n]]
        labels = torch.full((n,), c, dtype=torch.long)
        rows.append({
            "expression": train.classes[c], "N (generated = real)": n, "real training faces": len(real),
            "FID": FID(classifier, ref, name="FER classifier").score(fake).value,
            "FID of real vs real (floor)": _real_floor(classifier, real, n, seed),
            "IS": inception_score(classifier, fake, splits=min(10, n // 2), name="FER classifier").value,
            "recognised as intended": classifier_score(classifier, fake, labels).accuracy,
        })
    return pd.DataFrame(rows).set_index("expression"), images


def _real_floor(classifier, real: torch.Tensor, n: int, seed: int) -> float:
    """FID between two disjoint halves-or-less of the real faces at the same N (when there are
    2N of them): what a perfect generator would score at this sample size."""
    if len(real) < 2 * n:
        return float("nan")
    idx = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed + 1))
    return FID(classifier, real[idx[:n]]).score(real[idx[n : 2 * n]]).value


def compare_table(per_class, conditional) -> Any:
    """Per-expression vs conditional scores side by side."""
    import pandas as pd

    cols = ["FID", "IS", "recognised as intended"]
    sizes = per_class[["N (generated = real)", "real training faces"]].rename(columns={"N (generated = real)": "N"})
    return pd.concat({"sample size": sizes, "one DCGAN per expression": per_class[cols],
                      "one conditional DCGAN": conditional[cols]}, axis=1)
