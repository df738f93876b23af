"""Paper 001 (Birenbaum, "Data Augmentation Using GANs"): expression transfer on FER2013 with
CycleGAN, its weighted cycle loss and a Wasserstein CycleGAN (Part A), and synthetic neutral
faces from a DCGAN, filtered and added to the "Simple" classifier's training set (Part B)."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from labkit.data.core import ImageSet, concat
from labkit.data.fer2013 import CLASSES
from labkit.experiments.common import load_fer, one_class  # noqa: F401  (one_class: the chapter uses ch.one_class)
from labkit.experiments.fer import FER_DATA, PAPER_001, SWEEPS, compare_run, run_cells
from labkit.experiments.radford import dcgan_spec
from labkit.metrics import FID, ClassifierScore, classifier_score, nearest_ssim, ssim
from labkit.params import Param, Spec, require, subset
from labkit.report import paper_table, percent  # noqa: F401  (the chapter uses them as ch.*)
from labkit.runs import CycleGANSpec, GANSpec
from labkit.train import CycleGANTrainer
from labkit.train.classifier import predict

VARIANTS = {
    "CycleGAN": "least squares, pixel cycle loss (Zhu et al.)",
    "weighted cycle": "least squares, paper 001's weighted cycle loss and stabilising tricks",
    "Wasserstein": "Wasserstein critics with gradient penalty, pixel cycle loss",
}
PAPER = {
    "lr_g": 2e-4, "lr_d": 1e-4, "real_target": 0.9, "lambda_cyc": 10,
    "cycle": "weighted: gamma rises linearly to 1, features from D's last layer",
    "simple_acc": PAPER_001["simple_acc"], "simple_acc_synthetic": PAPER_001["simple_acc_synthetic"],
    "neutral_change": "-6% (73% → 67%)", "vgg19_acc": PAPER_001["vgg19_acc"],
}

SPEC = Spec(
    Param("n_standin", "stand-in training faces (used when data_dir is None)", 3000, 28709, int, low=140),
    Param("n_standin_test", "stand-in test faces", 900, 3589, int, low=70),
    Param("source", "the expression translated from", "Neutral", "Neutral", str, choices=tuple(CLASSES)),
    Param("target", "the main target expression (every variant)", "Happy", "Happy", str, choices=tuple(CLASSES)),
    Param("second_target", "a second target, trained with the weighted cycle loss only", "Surprise", "Surprise", str,
          choices=tuple(CLASSES)),
    Param("variants", "CycleGAN variants for the main pair", list(VARIANTS), list(VARIANTS), list, items=str),
    Param("F", "generator and discriminator capacity: 1 is CycleGAN's 64 filters; quick: an eighth", 0.125, 1.0, float,
          low=0.01, high=4),
    Param("blocks", "residual blocks in each generator (CycleGAN for small images: 6)", 6, 6, int, low=1),
    Param("batch", "batch size", 8, 16, int, low=1),
    Param("epochs", "epochs over the source faces; the learning rate decays linearly over the second half", 3, 100,
          int, low=1),
    Param("lr_g", "generator learning rate (paper: 0.0002)", 5e-4, 2e-4, float, low=1e-6, high=1),
    Param("lr_d", "discriminator learning rate (paper: 0.0001)", 2.5e-4, 1e-4, float, low=1e-6, high=1),
    Param("critic_steps", "Wasserstein critic steps per generator step (CycleGAN and Part B's WGAN-GP)", 2, 5, int,
          low=1),
    Param("lambda_id", "weight of CycleGAN's identity loss G(b) ≈ b and F(a) ≈ a, times the cycle weight (paper 001's objective has "
          "none: 0; Zhu et al.'s code uses 0.5 for paintings and photos)", 0.0, 0.0, float, low=0, high=10),
    Param("judge_F", "capacity of the judge (paper 000's CNN, class-weighted) that scores translations", 0.25, 1.0,
          float, low=0.01, high=4, real=0.125),
    Param("clf_F", "capacity of Part B's Simple classifier (1: paper 001's 5.9 M parameters)", 0.25, 1.0, float,
          low=0.01, high=4),
    Param("clf_epochs", "epochs of the judge and of each Part B classifier (quick on FER2013: more epochs of a share "
          "of the faces: real faces need more steps)", 6, 30, int, low=1, real=20),
    Param("gan_F", "capacity of Part B's DCGAN and WGAN-GP on neutral faces", 0.25, 1.0, float, low=0.01, high=4),
    Param("gan_epochs", "epochs of Part B's GANs", 30, 50, int, low=1),
    Param("gan_batch", "batch size of Part B's GANs", 32, 64, int, low=2),
    Param("n_generate", "faces Part B generates before filtering", 600, 5000, int, low=10),
    Param("confidence", "Part B keeps faces whose neutral probability reaches this quantile of held-out real "
          "neutral faces' (the classifier's own idea of a confident neutral)", 0.5, 0.5,
          float, low=0, high=1),
    Param("seeds", "seeds of the Part B classifier comparison", 2, 3, int, low=1),
    Param("sweep", "how Part B's seeds run: off (on this machine, at once on its CPU cores), serial or ray (labkit.runner; "
          "ray runs as many at once as there are cores or GPUs)", "off", "off", str, choices=SWEEPS),
    data=FER_DATA,
    epoch_images=3000,
    check=lambda P: (subset(P, "variants", VARIANTS),
                     require(len({P.source, P.target, P.second_target}) == 3,
                             f"source, target and second_target must be three different expressions; got "
                             f"{P.source!r}, {P.target!r}, {P.second_target!r}")),
)


def load(P) -> tuple[ImageSet, ImageSet]:
    """(train, test): FER2013's Training and PrivateTest (paper 001's 3,589 test faces), or the stand-in."""
    return tuple(load_fer(P, ("Training", "PrivateTest")))


def faces_of(s: ImageSet, name: str) -> torch.Tensor:
    if name not in s.classes:
        raise ValueError(f"unknown expression {name!r}; the classes are {s.classes}")
    return s.of_class(s.classes.index(name))


def cyclegan_spec(variant: str, name: str, *, F: float, blocks: int, batch: int, lr_g: float, lr_d: float,
                  critic_steps: int = 5, lambda_id: float = 0.0, seed: int = 0) -> CycleGANSpec:
    """One CycleGAN variant:

    - ``"CycleGAN"``: least squares, pixel cycle loss, one learning rate (``lr_g``) for all;
    - ``"weighted cycle"``: paper 001's tricks: its weighted cycle loss, ``lr_g`` / ``lr_d``,
      real label 0.9, train-time flips and zoom;
    - ``"Wasserstein"``: critics with gradient penalty (λ 10), ``critic_steps`` per generator step,
      ``lr_g`` / ``lr_d``, pixel cycle loss.

    Every variant: ``blocks``-block ResNet generators, PatchGAN discriminators, paper 001's
    objective (the adversarial losses and the cycle loss with λ 10; ``lambda_id`` > 0 adds CycleGAN's
    identity loss, which the paper's objective does not have), a pool of 50 fakes, Adam β1 0.5,
    learning rate decaying linearly over the second half."""
    nets = dict(g_args={"F": F, "blocks": blocks}, d_args={"F": F}, batch=batch, lambda_id=lambda_id, seed=seed)
    if variant == "CycleGAN":
        return CycleGANSpec(name, loss="lsgan", lr_g=lr_g, lr_d=lr_g, **nets)
    if variant == "weighted cycle":
        return CycleGANSpec(name, loss="lsgan", loss_args={"real_target": 0.9}, lr_g=lr_g, lr_d=lr_d, weighted_cycle=True,
                            augment="classic", augment_args={"flip": 0.5, "zoom": 0.1, "shear": 0.0}, **nets)
    if variant == "Wasserstein":
        return CycleGANSpec(name, loss="wgan-gp", loss_args={"lambda_gp": 10.0}, lr_g=lr_g, lr_d=lr_d,
                            d_steps=critic_steps, **nets)
    raise ValueError(f"variant must be one of {list(VARIANTS)}; got {variant!r}")


def _transfer_row(source: torch.Tensor, out: torch.Tensor, rec: torch.Tensor, fid: FID, target: int,
                  judge: torch.nn.Module, seconds: float) -> dict[str, Any]:
    return {
        "recognised as target": classifier_score(judge, out, torch.full((len(out),), target, dtype=torch.long)).accuracy,
        "SSIM input → output": float(ssim(source, out).mean()),
        "cycle L1 error": float((rec - source).abs().mean()),
        "FID to real target": fid.score(out[: fid.n]).value,
        "N": fid.n,
        "training seconds": seconds,
    }


def _target_fid(source: torch.Tensor, target_real: torch.Tensor, judge: torch.nn.Module) -> FID:
    # FID at N = min(sources, targets), the real target faces' features extracted once
    return FID(judge, target_real[: min(len(source), len(target_real))], name="FER judge")


def evaluate_transfer(t: CycleGANTrainer, source: torch.Tensor, target_real: torch.Tensor, target: int,
                      judge: torch.nn.Module, fid: FID | None = None) -> dict[str, Any]:
    """What the slides only show, measured on held-out ``source`` faces: how often the judge
    calls the translation the target expression, how much of the person stays (SSIM between
    input and translation; L1 error of the cycle's reconstruction), and FID of the translations
    to real target faces on the judge's features at N = min(sources, targets) (``fid``: the
    :class:`~labkit.metrics.FID` of those real faces, if one is at hand)."""
    fake, rec = t.translate(source)
    fid = _target_fid(source, target_real, judge) if fid is None else fid
    return _transfer_row(source, fake, rec, fid, target, judge, t.seconds)


def transfer_table(runs: dict[str, CycleGANTrainer], source: torch.Tensor, target_real: torch.Tensor, target: int,
                   judge, untouched: bool = True):
    """One row per variant, and (``untouched``) the source faces themselves as the do-nothing
    baseline a translation must beat. Every row's FID compares with the same real target faces,
    whose features are extracted once."""
    import pandas as pd

    fid = _target_fid(source, target_real, judge)
    rows = {name: evaluate_transfer(t, source, target_real, target, judge, fid) for name, t in runs.items()}
    if untouched:
        rows["(no translation)"] = _transfer_row(source, source, source, fid, target, judge, 0.0)
    return pd.DataFrame(rows).T


# --- Part B -------------------------------------------------------------------------------

def fake_gan_specs(*, F: float, batch: int = 64, critic_steps: int = 5, seed: int = 0) -> dict[str, GANSpec]:
    """Paper 001's "fake GAN" on neutral faces: the DCGAN for 1×48×48 (transposed convolutions with
    batch norm and ReLU; a convolutional discriminator with batch norm, leaky ReLU and a sigmoid)
    with BCE, and its WGAN-GP twin (the same networks, a critic without the sigmoid, ``critic_steps``
    critic steps per generator step)."""
    return {
        "DCGAN": dcgan_spec("fake-dcgan", F=F, batch=batch, lr=1e-3, seed=seed),
        "WGAN-GP": GANSpec("fake-wgan-gp", "radford", g_args={"F": F}, d_args={"F": F}, loss="wgan-gp",
                           loss_args={"lambda_gp": 10.0}, lr_g=2e-4, lr_d=2e-4, batch=batch, d_steps=critic_steps,
                           n_fixed=36, seed=seed),
    }


def face_check(fake: torch.Tensor, real: torch.Tensor, judge: torch.nn.Module, quantile: float = 0.95) -> torch.Tensor:
    """A stand-in for the paper's face detector, which needs a download: an image passes when its
    contrast is within the real faces' range (no blank or washed-out images) and its nearest real
    face in the judge's feature space is no farther than the ``quantile`` of real faces' own
    nearest-neighbour distances (it looks like *some* face to a face classifier)."""
    std_real = real.flatten(1).std(1)
    lo, hi = torch.quantile(std_real, 0.02), torch.quantile(std_real, 0.98)
    s = fake.flatten(1).std(1)
    contrast = (s >= lo) & (s <= hi)
    fr = predict(judge, real, features=True)
    ff = predict(judge, fake, features=True)
    d_rr = torch.cdist(fr, fr)
    d_rr.fill_diagonal_(float("inf"))
    limit = torch.quantile(d_rr.min(1).values, quantile)
    near = torch.cdist(ff, fr).min(1).values <= limit
    return contrast & near


def filter_neutral(fake: torch.Tensor, real: torch.Tensor, judge: torch.nn.Module, neutral: int, confidence: float,
                   reference: torch.Tensor | None = None):
    """The paper's pipeline after generation: keep faces that pass :func:`face_check`, then those
    the classifier calls neutral with high confidence: probability ≥ ``confidence``, or, with
    ``reference`` (held-out real neutral faces), probability at least the ``confidence`` quantile
    of theirs, a bar calibrated to how sure this classifier is of real neutral faces. Returns
    (kept mask, counts at each stage, neutral probabilities)."""
    face = face_check(fake, real, judge)
    p = torch.softmax(predict(judge, fake), 1)[:, neutral]
    if reference is None:
        threshold, label = confidence, f"and neutral with p ≥ {confidence}"
    else:
        threshold = float(torch.quantile(torch.softmax(predict(judge, reference), 1)[:, neutral], confidence))
        label = f"and neutral with p ≥ {threshold:.3f} (the {confidence:.0%} quantile of real neutral faces)"
    kept = face & (p >= threshold)
    counts = {"generated": len(fake), "pass the face check": int(face.sum()), label: int(kept.sum())}
    return kept, counts, p


def similarity(kept: torch.Tensor, real: torch.Tensor, held_out: torch.Tensor) -> dict[str, float]:
    """SSIM of kept images to their most similar real training face, beside the same for held-out
    real faces (what 'a new face of the same kind' scores)."""
    a = nearest_ssim(kept, real) if len(kept) else torch.empty(0)
    b = nearest_ssim(held_out, real)
    return {"kept: median nearest SSIM": float(a.median()) if len(a) else float("nan"),
            "kept: share above 0.9 (near copies)": float((a > 0.9).float().mean()) if len(a) else float("nan"),
            "held-out real: median nearest SSIM": float(b.median())}


def retrain(train: ImageSet, test: ImageSet, synthetic: torch.Tensor, neutral: int, seeds: int, *, F: float,
            epochs: int, device="auto", run_root=None, epoch_share: float | None = None, sweep: str = "off"):
    """The "Simple" classifier with and without the kept synthetic neutral faces, over ``seeds``:
    per-class test accuracies (rows: seed × condition) and the overall accuracy. ``sweep``: as
    :func:`labkit.experiments.fer.compare` (``"serial"`` or ``"ray"``: through labkit.runner)."""
    import pandas as pd

    extra = ImageSet(synthetic, torch.full((len(synthetic),), neutral, dtype=torch.long), list(train.classes), "synthetic neutral")
    both = concat(train, extra, source=f"{train.source} + {len(extra)} synthetic neutral")
    conditions = {"baseline": {"train": train}, "+ synthetic neutral": {"train": both}}
    cells = [(cond, seed) for seed in range(seeds) for cond in conditions]
    fixed = dict(conditions=conditions, test=test, epochs=epochs, run={"device": device, "run_root": run_root, "epoch_share": epoch_share},
                 arch="simple", F=F, batch=64, lr=1e-3)
    rows = []
    for (cond, seed), out in zip(cells, run_cells(compare_run, cells, fixed, sweep, "part-b")):
        s = ClassifierScore.from_confusion(out["confusion"])
        rows.append({"seed": seed, "condition": cond, "overall": s.accuracy,
                     **{c: s.per_class[i] for i, c in enumerate(test.classes)}})
    return pd.DataFrame(rows)


def per_class_vs_paper(results, classes: Sequence[str]):
    """Mean per-class accuracy of each condition beside paper 001's table (baseline and with
    synthetic data)."""
    import pandas as pd

    mean = results.drop(columns="seed").groupby("condition").mean().T
    spread = results.drop(columns="seed").groupby("condition").std().T
    counts = PAPER_001["test_counts"]
    paper_base = [h / n for h, n in zip(PAPER_001["simple_hits"], counts)]
    paper_syn = [h / n for h, n in zip(PAPER_001["simple_hits_synthetic"], counts)]
    out = pd.DataFrame({
        "paper: baseline": [PAPER_001["simple_acc"]] + paper_base,
        "paper: + synthetic": [PAPER_001["simple_acc_synthetic"]] + paper_syn,
    }, index=["overall"] + list(classes))
    for cond in mean.columns:
        out[f"this run: {cond}"] = [f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in zip(mean[cond], spread[cond].fillna(0))]
    return out
