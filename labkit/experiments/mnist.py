"""Paper 004 (Ferianc & Manocha): the MNIST DCGAN, the class-conditional GAN, LeNet scores,
real/synthetic mixing and PCA generation. The chapter notebook and its sweep notebook
(``mnist_gan_run.ipynb``) both build on these functions."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from labkit.data.core import ImageSet, mix_real_synthetic
from labkit.metrics import FID, classifier_score, fid, inception_score
from labkit.models import LeNet
from labkit.params import Param, Spec
from labkit.report import paper_table, percent  # noqa: F401  (the chapter uses them as ch.*)
from labkit.runs import ClassifierSpec, GANSpec, fit
from labkit.train import ClassifierTrainer, GANTrainer, atomic_save, evaluate

# Numbers the paper gives, quoted (never computed).
PAPER = {
    "generator_params": 6_768_129,
    "discriminator_params": 307_737,
    "ccgan_discriminator_params": 307_385,
    "ccgan_generator_params": 7_572_865,
    "lenet_train_acc": 0.994,
    "lenet_test_acc": 0.988,
    "ccgan_score": 0.948,
    "ccgan_score_smoothing": 0.976,
    "pca_saturation_components": 64,
    "pca1_gap": 0.10,
    "lr_dcgan": 0.002,
    "lr_ccgan": 0.0002,
    "epochs": 25,
}

FULL_GRID = [{"F": f, "D": d, "B": b} for f in (1, 2, 3) for d in (1, 2, 3) for b in (32, 64, 128)]
SMALL_GRID = [{"F": 0.25, "D": 1, "B": 64}, {"F": 0.25, "D": 2, "B": 64}, {"F": 0.25, "D": 1, "B": 128}]

DATA = ("folder with torchvision's MNIST/raw files; None: the embedded 5,000-digit sample", "data")
_COMMON = (
    Param("results_path", "write this run's numbers as JSON here (for sweeps); None: do not", None, None, str, nullable=True),
    Param("n_eval", "generated images per class for the scores (the paper's figure is unknown)", 100, 1000, int, low=10),
)

SPEC = Spec(
    *_COMMON,
    Param("lenet_epochs", "LeNet epochs (Listing 1; the paper trained 5)", 3, 5, int, low=1),
    Param("gan_epochs", "epochs per GAN (paper: 25; quick on full MNIST: more epochs of a share of the digits)", 6, 25, int,
          low=1, real=10),
    Param("F", "capacity multiplier of the trained GANs (paper's best: 1; quick: a quarter of the channels)", 0.25, 1.0, float, low=0.05, high=3),
    Param("D", "discriminator depth of the trained GANs (paper's best: 1)", 1, 1, int, low=1, high=3),
    Param("batch_dcgan", "DCGAN batch size (paper's best: 32)", 64, 32, int, low=2),
    Param("batch_ccgan", "CCGAN batch size (paper's best: 64)", 64, 64, int, low=2),
    Param("lr_dcgan", "DCGAN Adam learning rate (paper: 0.002)", 0.002, 0.002, float, low=1e-6, high=0.1),
    Param("lr_ccgan", "CCGAN Adam learning rate (paper: 0.0002; quick: higher, to learn in minutes)", 0.002, 0.0002, float, low=1e-6, high=0.1),
    Param("real_target", "one-sided label smoothing: D's target for real images", 0.9, 0.9, float, low=0.51, high=1.0),
    Param("ema", "the fourth CCGAN (not in the paper) samples from a moving average of its generator with this decay",
          0.999, 0.999, float, low=0.0, high=0.99999),
    Param("decay_from", "the fourth CCGAN's learning rate decays linearly to 0 over the epochs after this share of them",
          0.4, 0.4, float, low=0.0, high=1.0),
    Param("grid", "the F×D×B sweep: 'small' (3 settings), 'full' (the paper's 27) or 'none'", "small", "full", str,
          choices=("small", "full", "none")),
    Param("grid_epochs", "epochs per sweep setting (paper: 25)", 3, 25, int, low=1),
    Param("mix_fractions", "shares of real images in the mixing experiment", [0.1, 0.5, 1.0],
          [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], list, items=(int, float), low=0, high=1),
    Param("mix_seeds", "seeds per mix (the spread the paper did not report)", 2, 3, int, low=1),
    Param("mix_epochs", "LeNet epochs per mix", 1, 5, int, low=1),
    Param("pca_components", "numbers of principal components to score", [1, 4, 16, 64, 256],
          [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 784], list, items=int, low=1, high=784),
    data=DATA,
    epoch_images=4000,
)

RUN_SPEC = Spec(
    *_COMMON,
    Param("F", "capacity multiplier (paper: 1, 2, 3)", 0.25, 1.0, float, low=0.05, high=3),
    Param("D", "discriminator depth (paper: 1, 2, 3)", 1, 1, int, low=1, high=3),
    Param("B", "batch size (paper: 32, 64, 128)", 64, 64, int, low=2),
    Param("epochs", "epochs (paper: 25; quick: the chapter's, so its run is reused)", 6, 25, int, low=1),
    Param("conditional", "train the class-conditional GAN (True) or the DCGAN (False)", True, True, bool),
    Param("lr", "Adam learning rate (paper: 0.002 DCGAN, 0.0002 CCGAN)", 0.002, 0.0002, float, low=1e-6, high=0.1),
    Param("real_target", "one-sided label smoothing: D's target for real images", 0.9, 0.9, float, low=0.51, high=1.0),
    Param("lenet_path", "LeNet weights to score with (from the chapter); None: train one here", None, None, str, nullable=True),
    Param("lenet_epochs", "LeNet epochs when none is given", 3, 5, int, low=1),
    data=DATA,
    epoch_images=4000,
)


def worker_notebook() -> Path:
    """The sweep worker ``mnist_gan_run.ipynb`` beside the chapter, found from labkit's own place
    (the course's checkout), so the chapter runs from any working directory. Call it in the first
    cells: without the checkout (labkit installed alone) it says what to do before any work."""
    path = Path(__file__).resolve().parents[2] / "notebooks" / "mnist_gan_run.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"the sweep worker {path} is not there: labkit is installed without the course's "
                                f"notebooks. Clone the course and install it with pip install -e ., or pass grid='none'")
    return path


def load(P) -> tuple[ImageSet, ImageSet]:
    from labkit.data.mnist import load_mnist

    train = load_mnist(P.data_dir, "train")
    P.size_to(len(train), "training digits")  # sizes the chapter's epochs (labkit.params.Params.size_to)
    return train, load_mnist(P.data_dir, "test", quiet=P.data_dir is None)


def lenet_spec(seed: int = 0, batch: int = 32, lr: float = 1e-3, name: str = "lenet") -> ClassifierSpec:
    """LeNet (Listing 1) with Adam and cross-entropy."""
    return ClassifierSpec(name, "lenet", lr=lr, batch=batch, seed=seed)


def held_out_accuracy(test: ImageSet) -> dict:
    """A per-epoch measure for a classifier: its accuracy on ``test``."""
    return {"test_acc": lambda t: evaluate(t.model, test.x, test.y)}


def gan_spec(*, F: float, D: int, B: int, lr: float, conditional: bool, real_target: float = 1.0,
             norm: str = "batch", ema: float = 0.0, decay_from: float | None = None, seed: int = 0,
             name: str | None = None) -> GANSpec:
    """Paper 004's DCGAN (``conditional=False``) or CCGAN: capacity ``F``, discriminator depth ``D``,
    batch ``B``, BCE with optional one-sided label smoothing, Adam (β1 0.5). Not in the paper:
    ``ema``, samples from a moving average of the generator's weights, and ``decay_from``, the
    learning rates decaying linearly to 0 over the epochs after that share of them."""
    name = name or f"{'ccgan' if conditional else 'dcgan'}-F{F}-D{D}-B{B}" + ("-vbn" if norm == "virtual" else "") + (
        f"-smooth{real_target}" if real_target < 1 else "") + (f"-ema{ema}" if ema else "") + (
        f"-decay{decay_from}" if decay_from is not None else "")
    return GANSpec(name, "mnist", g_args={"F": F, "norm": norm}, d_args={"F": F, "depth": D, "norm": norm},
                   conditional=conditional, loss="bce", loss_args={"real_target": real_target}, lr_g=lr, lr_d=lr,
                   batch=B, ema=ema, decay_from=decay_from, seed=seed)


def lenet_score(lenet: torch.nn.Module, per_class: int = 50):
    """A per-epoch measure for a conditional GAN: LeNet's accuracy on ``per_class`` digits of
    each class (the paper's Figure 7)."""
    def measure(t: GANTrainer) -> float:
        labels = balanced_labels(t.num_classes, per_class)
        return classifier_score(lenet, t.generate(len(labels), labels, seed=99), labels).accuracy

    return measure


def balanced_labels(num_classes: int, per_class: int) -> torch.Tensor:
    return torch.arange(num_classes).repeat_interleave(per_class)


def evaluate_generator(trainer: GANTrainer, lenet: torch.nn.Module, real: ImageSet, per_class: int,
                       seed: int = 0) -> dict[str, Any]:
    """The paper's LeNet "inception score" (conditional only) beside the real Inception Score
    and FID on LeNet features, all at the same N; FID against as many real images."""
    k = len(real.classes)
    n = k * per_class
    if trainer.conditional:
        labels = balanced_labels(k, per_class)
        images = trainer.generate(n, labels, seed=seed)
    else:
        labels = None
        images = trainer.generate(n, seed=seed)
    reference = real.take(min(n, len(real)), seed=seed)
    out: dict[str, Any] = {"n": n, "images": images, "labels": labels}
    if labels is not None:
        out["lenet"] = classifier_score(lenet, images, labels)
    m = len(reference)  # n, unless the real set is smaller
    out["is"] = inception_score(lenet, images, name="LeNet")
    out["is_real"] = inception_score(lenet, reference.x, name="LeNet")
    out["fid"] = fid(lenet, reference.x, images[:m], name="LeNet")
    return out


def mixing(real: ImageSet, synthetic: ImageSet, test: ImageSet, fractions: Sequence[float], seeds: int, epochs: int,
           device="auto", adjust: dict[int, float] | None = None, run_root=None, epoch_share: float | None = None):
    """LeNet trained on mixes with ``fractions`` of real images (same total and per-class
    counts), ``seeds`` times each; returns a table of test accuracies. ``adjust`` overrides the
    share of real images of some classes (the paper's class 4 at 40%); ``epoch_share``: see
    :func:`labkit.runs.fit`. The runs train at once on a CPU's cores (:func:`labkit.runs.fit_many`)."""
    import pandas as pd

    from labkit.runs import fit_many

    jobs = {}
    for f in fractions:
        for s in range(seeds):
            share = [float(f)] * len(real.classes)
            for c, v in (adjust or {}).items():
                share[c] = max(share[c], v)
            jobs[(f, s)] = (lenet_spec(s, name="lenet-mix"), mix_real_synthetic(real, synthetic, share, seed=s), epochs,
                            {"metrics": held_out_accuracy(test)})
    runs = fit_many(jobs, device=device, run_root=run_root, epoch_share=epoch_share)
    rows = [{"real_fraction": f, "seed": s, "adjusted": bool(adjust), "test_acc": t.history[-1]["test_acc"]}
            for (f, s), t in runs.items()]
    return pd.DataFrame(rows), {k: t.model for k, t in runs.items()}


def pca_scores(pca, train: ImageSet, test: ImageSet, lenet: torch.nn.Module, components: Sequence[int], per_class: int,
               seed: int = 0):
    """Score PCA digits per number of components: LeNet accuracy (the paper's measure) and FID
    to real test digits on LeNet features (which also sees variety), for the paper's
    reconstructions of real training digits and for new samples from the per-class Gaussian.
    Every score uses the same N."""
    import pandas as pd

    k = len(train.classes)
    ref = train.take(min(k * per_class, len(train)), seed=seed)
    real = test.take(len(ref), seed=seed).x
    labels = balanced_labels(k, len(ref) // k)
    meter = FID(lenet, real, name="LeNet")
    rows, confusions = [], {}
    for n in sorted(set(min(c, pca.max_components) for c in components)):
        rec_images, smp_images = pca.reconstruct(ref.x, ref.y, n), pca.sample(labels, n, seed=seed)
        rec, smp = classifier_score(lenet, rec_images, ref.y), classifier_score(lenet, smp_images, labels)
        rows.append({"components": n, "accuracy, reconstruction (paper)": rec.accuracy, "accuracy, sampling": smp.accuracy,
                     "FID, reconstruction": meter.score(rec_images).value, "FID, sampling": meter.score(smp_images).value})
        confusions[n] = (rec.confusion, smp.confusion)
    return pd.DataFrame(rows).set_index("components"), confusions


def saturation(table, column: str, tolerance: float, lower_is_better: bool = False) -> int:
    """The fewest components whose score is within ``tolerance`` of the best: an absolute
    margin for accuracies, a relative one (e.g. 0.1 = 10%) for FID (lower is better)."""
    values = table[column]
    if lower_is_better:
        ok = values <= values.min() * (1 + tolerance)
    else:
        ok = values >= values.max() - tolerance
    return int(table.index[ok][0])


def save_lenet(trainer: ClassifierTrainer, path: str | Path) -> Path:
    return atomic_save(trainer.model.state_dict(), path)


def load_lenet(path: str | Path, num_classes: int = 10, device="cpu") -> LeNet:
    model = LeNet(num_classes)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(device).eval()
