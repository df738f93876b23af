"""Paper 000 (Hasan & Ali, "Image Augmentation Using Deep Convolutional GAN"): a FER2013
emotion classifier, DCGAN images for its weakest classes, and the retrained classifier; plus
the classifiers of paper 001 that every FER chapter uses, and the baselines the paper did not
run (random oversampling, a class-weighted loss, classic augmentation only, a class-conditional
GAN) over several seeds.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from labkit.data.core import ImageSet
from labkit.data.fer2013 import COUNTS
from labkit.experiments.common import class_images, load_fer, one_class
from labkit.metrics import ClassifierScore, classifier_score
from labkit.params import Param, Spec
from labkit.report import paper_table, percent  # noqa: F401  (the chapter uses them as ch.*)
from labkit.runs import ClassifierSpec, GANSpec, class_weights, fit, fit_many  # noqa: F401  (class_weights: ch.class_weights)
from labkit.train import ClassifierTrainer, GANTrainer

# Numbers the papers give, quoted (never computed).
PAPER = {
    "counts": COUNTS,
    "total": 35_887,
    "cnn_epochs": 70,
    "acc_before": 0.64,
    "acc_after": 0.61,
    "disgust_before": 0.41,
    "disgust_after": 0.28,
    "disgust_as_angry_before": 0.37,
    "disgust_as_angry_after": 0.39,
    "weak": ["Disgust", "Fear"],
    "gan_epochs": {"Disgust": 500, "Fear": 100},
    "generated_per_class": 1000,
    "cnn_features": 1024,
}
# Paper 001, Part B: the "Simple" classifier and its results on the 3,589 PrivateTest faces
PAPER_001 = {
    "simple_params_keras": 5_905_863,
    "simple_trainable": 5_902_151,
    "simple_non_trainable": 3_712,
    "simple_acc": 0.6509,
    "simple_acc_synthetic": 0.6626,
    "vgg19_acc": 0.73,
    "test_counts": [491, 55, 528, 879, 594, 416, 626],
    "simple_hits": [262, 33, 244, 750, 262, 327, 458],
    "simple_hits_synthetic": [282, 36, 271, 767, 271, 328, 423],
}

CLASSIFIERS = ("paper000", "simple", "surreal")  # names in labkit.models.registry
SWEEPS = ("off", "serial", "ray")
FER_DATA = ("FER2013: fer2013.csv or the image-folder copy; None: the stand-in drawn by labkit", "data/fer2013")

SPEC = Spec(
    Param("n_standin", "stand-in training faces (FER2013 has 28,709); used when data_dir is None", 2400, 28709, int, low=70),
    Param("n_standin_test", "stand-in faces in each of the validation and test sets", 1200, 3589, int, low=70),
    Param("label_noise", "share of stand-in faces given a wrong label, as FER2013 has mislabeled faces",
          0.1, 0.1, float, low=0, high=0.9),
    Param("classifier", "the classifier the augmentation is judged by (paper 000's CNN, or paper 001's)",
          "paper000", "paper000", str, choices=tuple(CLASSIFIERS)),
    Param("clf_F", "classifier capacity: 1 is the papers' widths; the quick profile uses an eighth",
          0.125, 1.0, float, low=0.01, high=4),
    Param("clf_epochs", "classifier epochs (paper 000: 70; quick on FER2013: more epochs of a share of the faces)",
          5, 70, int, low=1, real=12),
    Param("clf_batch", "classifier batch size (not given; Keras's default is 32)", 64, 64, int, low=2),
    Param("clf_lr", "classifier Adam learning rate (Keras's default)", 1e-3, 1e-3, float, low=1e-6, high=1),
    Param("compare_classifiers", "also train paper 001's Simple and Surreal classifiers, for comparison (quick on "
          "FER2013: no, for time)", True, True, bool, real=False),
    Param("n_weak", "how many of the weakest classes get GAN images (paper: Disgust and Fear)", 2, 2, int, low=1, high=7),
    Param("gan_F", "GAN capacity: 1 is 256-128-64-32 generator channels; the quick profile uses an eighth (a "
          "quarter on FER2013: real faces need it)", 0.125, 1.0, float, low=0.01, high=4, real=0.25),
    Param("gan_epochs", "GAN epochs for a weak class with many images (paper: 100 for Fear; quick on FER2013: "
          "about 600 steps)", 15, 100, int, low=1, real=60),
    Param("gan_epochs_rare", "GAN epochs for a rare weak class (paper: 500 for Disgust; quick on FER2013: about 600 steps)",
          200, 500, int, low=1, real=600),
    Param("rare_share", "a class with less than this share of the training images is rare (Disgust: 1.9%, Fear: 17.8%)",
          0.05, 0.05, float, low=0, high=1),
    Param("gan_batch", "GAN batch size (not given)", 32, 64, int, low=2),
    Param("gan_lr", "GAN Adam learning rate, β1 0.5 (not given; quick: higher, to learn in minutes)", 2e-3, 2e-4, float, low=1e-6, high=1),
    Param("gan_loss", "'wgan-gp' (our reading of the paper's loss × gradient norm) or 'bce'", "wgan-gp", "wgan-gp", str,
          choices=("wgan-gp", "bce")),
    Param("d_steps", "discriminator (critic) steps per generator step (WGAN-GP's usual 5)", 1, 5, int, low=1),
    Param("n_generate", "GAN images added per weak class (paper: 1,000 to 28,709 real faces)", 150, 1000, int, low=1),
    Param("cgan_epochs", "epochs of the class-conditional GAN on all classes", 5, 100, int, low=1, real=10),
    Param("seeds", "classifier seeds per condition in the comparison", 2, 3, int, low=1),
    Param("sweep", "how the comparison runs: off (on this machine, at once on its CPU cores), serial or ray (labkit.runner; "
          "ray runs as many at once as there are cores or GPUs)", "off", "off", str, choices=SWEEPS),
    data=FER_DATA,
    epoch_images=2400,
)


# --- data -------------------------------------------------------------------------------------
def load(P) -> tuple[ImageSet, ImageSet, ImageSet]:
    """(train, validation, test): FER2013's Training, PublicTest and PrivateTest (paper 001 tests
    on PrivateTest), or three independent draws of the stand-in."""
    return tuple(load_fer(P, ("Training", "PublicTest", "PrivateTest")))


def oversampled(train: ImageSet, classes: Sequence[int], n: int, seed: int = 0) -> ImageSet:
    """``n`` more copies of randomly chosen real images of each class in ``classes`` (random
    oversampling, the simplest baseline for GAN augmentation)."""
    g = torch.Generator().manual_seed(seed)
    parts = []
    for c in classes:
        members = torch.nonzero(train.y == c).flatten()
        if not len(members):
            raise ValueError(f"{train.source}: no images of class {train.classes[c]} to oversample")
        parts.append(members[torch.randint(len(members), (n,), generator=g)])
    return train.subset(torch.cat(parts), source=f"{n:,} repeated real images per class of {_names(train, classes)}")


def slug(text: str) -> str:
    """A file-name-safe form of a label ("per-class DCGAN (paper)" → "per-class-dcgan-paper")."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _names(s: ImageSet, classes: Sequence[int]) -> str:
    return ", ".join(s.classes[c] for c in classes)


# --- classifiers ------------------------------------------------------------------------------
def classifier_spec(arch: str, *, F: float, batch: int, lr: float, seed: int = 0, augment: bool = True,
                    weighted: bool = False, name: str | None = None) -> ClassifierSpec:
    """A FER classifier with Adam and cross-entropy; ``augment``: paper 000's classic flips, zoom
    and shear; ``weighted``: class-balanced loss weights."""
    if arch not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {list(CLASSIFIERS)}; got {arch!r}")
    return ClassifierSpec(name or f"{arch}-F{F}", arch, {"F": F}, lr=lr, batch=batch,
                          augment="classic" if augment else None, balanced=weighted, seed=seed)


def confusion_rate(score: ClassifierScore, classes: Sequence[str], true: str, pred: str) -> float:
    """The share of ``true`` test images the classifier calls ``pred`` (paper 000: 37% of
    Disgust predicted Angry)."""
    cm = score.confusion
    i, j = list(classes).index(true), list(classes).index(pred)
    n = cm[i].sum()
    return float(cm[i, j] / n) if n else float("nan")


def weakest(score: ClassifierScore, n: int) -> list[int]:
    """The ``n`` classes with the lowest test accuracy, weakest first."""
    return [int(c) for c in np.argsort(score.per_class, kind="stable")[:n]]


def balanced_accuracy(score: ClassifierScore) -> float:
    """The mean of the per-class accuracies: every class counts once, however rare."""
    return float(np.mean(score.per_class))


# --- GANs -------------------------------------------------------------------------------------
def gan_epochs_for(train: ImageSet, c: int, P) -> int:
    """GAN epochs for class ``c``: the paper gave the rare Disgust (547 of 28,709 training faces)
    500 epochs and Fear (5,121) 100, so a rare class gets ``gan_epochs_rare``, others ``gan_epochs``."""
    return P.gan_epochs_rare if train.counts()[c] < P.rare_share * len(train) else P.gan_epochs


def gan_spec(name: str, *, F: float, batch: int, lr: float, loss: str = "wgan-gp", d_steps: int = 1,
             num_classes: int = 0, seed: int = 0) -> GANSpec:
    """Paper 000's DCGAN (our WGAN-GP reading of its loss, or BCE), one per weak class; with
    ``num_classes`` its class-conditional version on every class (the paper's suggested future
    work: the rare classes borrow what faces share from the common ones)."""
    return GANSpec(name, "paper000", g_args={"F": F}, d_args={"F": F}, conditional=num_classes > 0, loss=loss,
                   lr_g=lr, lr_d=lr, batch=batch, d_steps=d_steps, n_fixed=7 * num_classes if num_classes else 36,
                   seed=seed)


def class_gans(train: ImageSet, classes: Sequence[int], epochs, *, run=None, **spec) -> dict[int, GANTrainer]:
    """Paper 000's weak-class loop: one GAN (:func:`gan_spec` with ``spec``) per class in
    ``classes``, trained on that class's images alone for ``epochs(c)`` epochs."""
    return fit_many({c: (gan_spec(f"dcgan-{train.classes[c].lower()}", **spec), one_class(train, c), epochs(c))
                     for c in classes}, **(run or {}))  # at once on a CPU's cores


def generated(gans: dict[int, GANTrainer] | GANTrainer, classes: Sequence[int], n: int, names: list[str],
              seed: int = 0) -> ImageSet:
    """``n`` generated images of each class in ``classes``, labelled with that class: from one
    unconditional GAN per class (a dict class → trainer) or from a conditional GAN."""
    xs, ys = [], []
    for c in classes:
        xs.append(class_images(gans, c, n, seed))
        ys.append(torch.full((n,), c, dtype=torch.long))
    kind = "per-class DCGAN" if isinstance(gans, dict) else "conditional GAN"
    return ImageSet(torch.cat(xs), torch.cat(ys), list(names), f"{n:,} {kind} images per class of "
                    + ", ".join(names[c] for c in classes))


@torch.no_grad()
def nearest_real(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Each image's root-mean-square pixel distance to its nearest image in ``real`` (a GAN that
    copies its training images has distances near 0)."""
    a, b = fake.flatten(1).double(), real.flatten(1).double()
    d = torch.cdist(a, b)
    return (d.min(1).values / a.shape[1] ** 0.5).float()


def gan_quality(classifier: nn.Module, images: ImageSet, train: ImageSet) -> dict[str, Any]:
    """Per class: the share of generated images a classifier recognises as their class, and how
    close they sit to their nearest real training image of the class, beside how close real
    images of the class sit to each other (each to its nearest other one). Generated images much
    closer to the real ones than real ones are to each other are copies."""
    score = classifier_score(classifier, images.x, images.y)
    rows = {}
    for c in sorted(set(images.y.tolist())):
        fake, real = images.x[images.y == c], train.of_class(c)
        own = torch.cdist(real.flatten(1).double(), real.flatten(1).double())
        own.fill_diagonal_(float("inf"))
        rows[train.classes[c]] = {
            "generated": len(fake), "real training images": len(real),
            "recognised as the class": float(score.confusion[c, c] / max(1, score.confusion[c].sum())),
            "distance to nearest real (generated)": float(nearest_real(fake, real).mean()),
            "distance to nearest other real (real)": float((own.min(1).values / real[0].numel() ** 0.5).mean()),
        }
    import pandas as pd

    table = pd.DataFrame(rows).T
    return table.astype({"generated": int, "real training images": int})


# --- the comparison ---------------------------------------------------------------------------
def compare_run(condition: str, seed: int, *, conditions: dict[str, dict[str, Any]], test: ImageSet, epochs: int,
                run=None, **clf) -> dict[str, Any]:
    """One cell of :func:`compare`: the classifier on ``conditions[condition]`` with ``seed``;
    returns its test confusion matrix (plain lists, so :mod:`labkit.runner` can gather it)."""
    cond = conditions[condition]
    spec = classifier_spec(seed=seed, augment=cond.get("augment", True), weighted=cond.get("weighted", False),
                           name=f"clf-{slug(condition)}", **clf)
    t = fit(spec, cond["train"], epochs, **(run or {}))
    return {"confusion": classifier_score(t.model, test.x, test.y).confusion.tolist()}


def compare(conditions: dict[str, dict[str, Any]], test: ImageSet, seeds: int, epochs: int, *,
            first_seed: int = 0, done: dict[tuple[str, int], ClassifierTrainer] | None = None, watch: Sequence[int] = (),
            run=None, sweep: str = "off", **clf) -> tuple:
    """Train the classifier (:func:`classifier_spec` with ``clf``) on each condition (``{"train":
    ImageSet, "weighted": bool, "augment": bool}``) for ``epochs`` with the ``seeds`` seeds from
    ``first_seed`` on; return a table (one row per run: overall and balanced test accuracy,
    per-class accuracy and the Disgust→Angry rate) and each run's test score. ``done`` holds runs
    already trained (condition, seed) → trainer, which are reused. ``sweep``: ``"off"`` trains the
    runs on this machine (:func:`run_cells`); ``"serial"`` or ``"ray"`` hands them to :func:`labkit.runner.sweep`
    (on Ray, as many at once as the machine or cluster has room for)."""
    import pandas as pd

    cells = [(name, s) for name in conditions for s in range(first_seed, first_seed + seeds)]
    scores = {k: classifier_score(t.model, test.x, test.y) for k, t in (done or {}).items() if k in cells}
    todo = [k for k in cells if k not in scores]
    fixed = dict(conditions=conditions, test=test, epochs=epochs, run=run, **clf)
    for cell, out in zip(todo, run_cells(compare_run, todo, fixed, sweep, "compare")):
        scores[cell] = ClassifierScore.from_confusion(out["confusion"])
    rows = []
    for name, s in cells:
        sc = scores[(name, s)]
        row = {"condition": name, "seed": s, "train images": len(conditions[name]["train"]), "accuracy": sc.accuracy,
               "balanced accuracy": balanced_accuracy(sc), "Disgust → Angry": confusion_rate(sc, test.classes, "Disgust", "Angry")}
        rows.append({**row, **{test.classes[c]: float(sc.per_class[c]) for c in watch}})
    return pd.DataFrame(rows), scores


def _cell(task, condition: str, seed: int, fixed: dict[str, Any]) -> dict:
    return task(condition, seed, **fixed)


def run_cells(task, cells: Sequence[tuple[str, int]], fixed: dict[str, Any], sweep: str, label: str) -> list[dict]:
    """``task(condition, seed, **fixed)`` for every (condition, seed) in ``cells``: on this machine
    (``sweep="off"``: on a CPU as many at once as it has cores, in worker processes of
    :mod:`labkit.parallel`; on a GPU one after another), or through :func:`labkit.runner.sweep`
    (``"serial"`` or ``"ray"``), whose table says where each ran; a failed run stops the chapter
    with its error. ``fixed["run"]`` (device, run_root) gets an absolute run folder, so workers
    elsewhere find the same checkpoints."""
    from labkit.parallel import on_cpu, run_many
    from labkit.train import runs_root

    run = dict(fixed.get("run") or {})
    fixed = {**fixed, "run": {**run, "run_root": str(runs_root(run.get("run_root")).resolve())}}
    if sweep == "off":
        out = run_many(_cell, {(c, s): (task, c, s, fixed) for c, s in cells}, parallel=on_cpu(run.get("device") or "auto"),
                       what=f"{label} runs")
        return [out[cell] for cell in cells]
    from labkit.runner import sweep as run_sweep

    out_dir = Path(fixed["run"]["run_root"]) / f"sweep-{label}"
    table = run_sweep(task, [{"condition": c, "seed": s} for c, s in cells], out_dir, fixed, backend=sweep)
    if "error" in table and table["error"].notna().any():
        raise RuntimeError(f"{label}: runs failed:\n" + table.loc[table["error"].notna(), ["condition", "seed", "error"]].to_string())
    return [dict(r) for r in table.drop(columns=["condition", "seed"]).to_dict("records")]


def summarise(table, columns: Sequence[str]):
    """Mean ± standard deviation over seeds, per condition, in percent."""
    import pandas as pd

    g = table.groupby("condition", sort=False)
    out = {}
    for col in columns:
        m, s = g[col].mean(), g[col].std(ddof=1)
        out[col] = [f"{100 * a:.1f} ± {100 * b:.1f}" if np.isfinite(b) else f"{100 * a:.1f}" for a, b in zip(m, s)]
    return pd.DataFrame(out, index=g[columns[0]].mean().index)
