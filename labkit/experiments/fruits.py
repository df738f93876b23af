"""Paper 002 (Aryan & Kashyap, "Image Generation using DCGAN"): one DCGAN per fruit of
Fruits-360, trained with DiffAugment, judged by Inception Score and FID; and what the paper's
measures can and cannot say (FID against the number of samples, DiffAugment with less data, the
grape mode collapse measured as sample diversity over the epochs)."""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch

from labkit.data.core import ImageSet
from labkit.data.fruits360 import FRUITS, PAPER_COUNTS
from labkit.experiments.common import one_class
from labkit.metrics import FID, inception_score
from labkit.augment import DiffAugment
from labkit.params import Param, Spec, require, subset
from labkit.report import paper_table, percent  # noqa: F401  (the chapter uses them as ch.*)
from labkit.runs import ClassifierSpec, GANSpec, epoch_size, fit
from labkit.train import GANTrainer
from labkit.train.classifier import evaluate, predict

# paper 002's Table 1, quoted: (IS mean, IS std, FID), Inception-v3 features, sample count not given
PAPER = {
    "Apple": (2.475, 0.112, 129),
    "Banana": (2.556, 0.291, 270),
    "Grape": (3.001, 0.078, 250),
    "Tomato": (1.382, 0.036, 236),
}
PAPER_NOTES = {
    "epochs": "about 50",
    "resolution": "100x100",
    "augmentation": "DiffAugment (Zhao et al. 2020)",
    "samples": "far fewer than the 10,000 a contemporary paper uses (its own caveat)",
    "observation": "bananas looked best to people but scored worst FID; grapes mode-collapsed early",
}
POLICY = "color,translation,cutout"


def check(P) -> None:
    """The combinations this chapter cannot run, refused before any work."""
    subset(P, "fruits", FRUITS)
    require(P.ablation_fruit in P.fruits, f"ablation_fruit {P.ablation_fruit!r} must be one of fruits {P.fruits}")
    ops = [o.strip() for o in P.policy.split(",") if o.strip()]
    require(bool(ops) and all(o in DiffAugment.POLICIES for o in ops),
            f"parameter 'policy' = {P.policy!r}: expected a comma list of {', '.join(DiffAugment.POLICIES)}")
    require(all(0 < f <= 1 for f in P.fractions), f"parameter 'fractions' = {P.fractions}: each share must be in (0, 1]")


SPEC = Spec(
    Param("fruits", "the fruits, each with its own GAN (all classes whose first word is the fruit)", list(FRUITS),
          list(FRUITS), list, items=str),
    Param("n_standin", "stand-in images per split (used when data_dir is None)", 2000, 15210, int, low=100),
    Param("size", "image side the GANs work at (Fruits-360 is 100x100; 96 is the nearest DCGAN size)", 32, 64, int,
          choices=(32, 64, 96)),
    Param("F", "capacity: 1 is Radford's channels; quick: half", 0.5, 1.0, float, low=0.01, high=4),
    Param("batch", "batch size", 32, 64, int, low=2),
    Param("lr", "Adam learning rate, beta1 0.5 (Radford: 0.0002; quick: higher, to learn in minutes)", 1e-3, 2e-4,
          float, low=1e-6, high=1),
    Param("epochs", "epochs per fruit (paper: about 50)", 12, 50, int, low=1),
    Param("min_steps", "at least this many generator steps per run (small sets get more epochs); 0: epochs only",
          300, 0, int, low=0),
    Param("policy", "DiffAugment policy (Zhao et al.: color,translation,cutout)", POLICY, POLICY, str),
    Param("ablation_fruit", "the fruit trained with and without DiffAugment at reduced data", "Banana", "Banana", str),
    Param("fractions", "shares of that fruit's images for the DiffAugment comparison", [1.0, 0.25, 0.1],
          [1.0, 0.25, 0.1], list, items=float),
    Param("clf_F", "capacity of the fruit classifier whose features score the GANs", 0.5, 1.0, float, low=0.01, high=4),
    Param("clf_epochs", "epochs of that classifier", 4, 10, int, low=1),
    Param("n_eval", "samples behind IS and FID (fewer when a fruit has fewer held-out images)", 400, 10000, int, low=20),
    Param("inception_weights", "the FID Inception-v3 for the papers' IS/FID: its weights file "
          "(weights-inception-2015-12-05-6726825d.pth), 'download' (online), or None (fruit-classifier features only)",
          None, None, str, nullable=True),
    data=("Fruits-360: the folder holding Training/ and Test/; None: the stand-in drawn by labkit", "data/fruits-360"),
    epoch_images=2000,
    check=check,
)



def load(P, group: bool = True) -> tuple[ImageSet, ImageSet]:
    """(train, test): Fruits-360's Training and Test splits, or two stand-in draws; labelled by
    fruit (``group``) or by variety."""
    if P.data_dir is not None:
        from labkit.data.fruits360 import load_fruits360

        sets = (load_fruits360(P.data_dir, "Training", fruits=P.fruits, group=group, size=P.size),
                load_fruits360(P.data_dir, "Test", fruits=P.fruits, group=group, size=P.size, quiet=True))
    else:
        from labkit.data.fruits_standin import make_fruits_standin

        sets = (make_fruits_standin(P.n_standin, seed=0, size=P.size, fruits=P.fruits, group=group),
                make_fruits_standin(P.n_standin, seed=1, size=P.size, fruits=P.fruits, group=group, quiet=True))
    P.size_to(len(sets[0]), "training images")  # sizes the chapter's epochs (labkit.params.Params.size_to)
    return sets


def by_variety(s: ImageSet) -> ImageSet:
    """The same images labelled by variety (``meta["variety"]``), for the judge classifier."""
    return ImageSet(s.x, s.meta["variety"], list(s.meta["varieties"]), s.source, dict(s.meta))


def train_judge(train: ImageSet, test: ImageSet, *, F: float, epochs: int, seed: int = 0, **run):
    """The fruit-variety classifier whose softmax gives IS and whose pooled features give FID
    when Inception-v3 is not at hand; returns (trainer, test accuracy)."""
    tr, te = by_variety(train), by_variety(test)
    t = fit(ClassifierSpec(f"fruitnet-F{F}", "fruitnet", {"F": F}, lr=2e-3, batch=64, seed=seed), tr, epochs, val=te, **run)
    return t, evaluate(t.model, te.x, te.y)


def epochs_for(n: int, batch: int, epochs: int, min_steps: int, epoch_share: float | None = None) -> int:
    """``epochs``, or more when that gives fewer than ``min_steps`` generator steps on ``n`` images
    (of which an epoch draws ``epoch_share``: see :func:`labkit.runs.epoch_size`)."""
    batch = min(batch, n)
    per_epoch = max(1, (epoch_size(n, batch, epoch_share) or n) // batch)
    return max(epochs, math.ceil(min_steps / per_epoch))


def diversity(features: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance between feature vectors: near 0 when every sample looks
    alike (mode collapse)."""
    if len(features) < 2:
        raise ValueError("diversity needs at least 2 samples")
    d = torch.cdist(features.double(), features.double())
    n = len(features)
    return float(d.sum() / (n * (n - 1)))


def diversity_metric(judge: torch.nn.Module, real: torch.Tensor, n: int = 64) -> Callable[[GANTrainer], dict]:
    """A per-epoch measure for a GAN's trainer: the diversity of ``n`` fixed-noise samples in the
    judge's feature space, divided by that of ``n`` real images (1 = as varied as the data)."""
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(98))[:n]  # data often sit in class order
    ref = diversity(predict(judge, real[pick], features=True))

    def measure(t: GANTrainer) -> dict:
        z = torch.randn(n, t.nz, generator=torch.Generator().manual_seed(99))  # the same noise every epoch
        return {"diversity": diversity(predict(judge, t.render(z), features=True)) / ref}

    return measure


def gan_spec(name: str, *, F: float, batch: int, lr: float, policy: str | None, seed: int = 0) -> GANSpec:
    """A Radford DCGAN (BCE, Adam β1 0.5), sized by ``fit`` to the fruit photos, with DiffAugment
    ``policy`` on everything the discriminator sees (None: without)."""
    aug = dict(augment="diffaugment", augment_args={"policy": policy}) if policy else {}
    return GANSpec(name, "radford", g_args={"F": F}, d_args={"F": F}, loss="bce", lr_g=lr, lr_d=lr, batch=batch,
                   n_fixed=36, seed=seed, **aug)


def train_fruit_gan(data: ImageSet, spec: GANSpec, *, epochs: int, min_steps: int = 0, judge=None,
                    reference: torch.Tensor | None = None, run=None) -> GANTrainer:
    """``spec`` on one fruit's images for ``epochs`` (more when that gives fewer than ``min_steps``
    steps). With a ``judge`` the sample diversity is recorded after every epoch, relative to
    that of ``reference`` (default: the training images)."""
    real = data.x if reference is None else reference
    metrics = {"diversity": diversity_metric(judge, real)} if judge is not None else None
    run = run or {}
    return fit(spec, data, epochs_for(len(data), spec.batch, epochs, min_steps, run.get("epoch_share")), metrics=metrics, **run)


def per_fruit(train: ImageSet, fruits: Sequence[str], *, epochs: int, min_steps: int, judge=None, run=None,
              **spec) -> dict[str, GANTrainer]:
    """One GAN per fruit (the paper's setup; :func:`gan_spec` with ``spec``), each on that fruit's
    training images only."""
    out = {}
    for fruit in fruits:
        if fruit not in train.classes:
            raise ValueError(f"unknown fruit {fruit!r}; the data has {train.classes}")
        data = one_class(train, train.classes.index(fruit))
        out[fruit] = train_fruit_gan(data, gan_spec(f"dcgan-{fruit.lower()}", **spec), epochs=epochs,
                                     min_steps=min_steps, judge=judge, run=run)
    return out


def fraction(data: ImageSet, share: float, seed: int = 0) -> ImageSet:
    """A random ``share`` of ``data`` (at least 2 images)."""
    if not 0 < share <= 1:
        raise ValueError(f"a fraction must be in (0, 1]; got {share}")
    n = max(2, round(share * len(data)))
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return data.subset(idx.sort().values, f"{data.source}, {100 * share:g}% ({n})")


def eval_n(real: torch.Tensor, n_eval: int) -> int:
    """The sample count behind a fruit's scores: ``n_eval``, or half its held-out images when
    fewer (the other half gives the real-vs-real floor at the same N)."""
    return min(n_eval, len(real) // 2)


def _fid_inputs(real: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    return real[torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:n]]


def scores(fake: torch.Tensor, real: torch.Tensor, judges: dict[str, torch.nn.Module], n: int, seed: int = 0,
           splits: int = 10) -> list[dict[str, Any]]:
    """IS (mean ± std over ``splits``) and FID to ``real`` at N = min(n, len(real)) generated and
    real images, once per feature extractor in ``judges`` (name → model). One row each."""
    n = min(n, len(real), len(fake))
    ref = _fid_inputs(real, n, seed)
    rows = []
    for name, model in judges.items():
        s = inception_score(model, fake[:n], splits=min(splits, n // 2), name=name)
        f = FID(model, ref, name=name).score(fake[:n])
        rows.append({"features": name, "N": n, "IS": s.value, "IS std": s.std, "FID": f.value})
    return rows


def score_table(gans: dict[str, GANTrainer], test: ImageSet, judges: dict[str, torch.nn.Module], n: int,
                seed: int = 0):
    """Per fruit and feature extractor: IS and FID of the fruit's GAN against that fruit's
    held-out real images, beside the same scores for real held-out images (what a perfect
    generator would get at this N) and the paper's figures."""
    import pandas as pd

    rows = []
    for fruit, t in gans.items():
        real = test.of_class(test.classes.index(fruit))
        m = eval_n(real, n)
        fake = t.generate(m, seed=seed)
        for r, floor in zip(scores(fake, real, judges, m, seed), _real_rows(real, judges, m, seed)):
            rows.append({"fruit": fruit, **r, "IS of real images": floor["IS"], "FID real vs real (floor)": floor["FID"]})
    return pd.DataFrame(rows).set_index(["fruit", "features"])


def _real_rows(real: torch.Tensor, judges, n: int, seed: int):
    """Scores of n real images against n other real images of the same fruit."""
    idx = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed + 1))
    return scores(real[idx[:n]], real[idx[n : 2 * n]], judges, n, seed)


def fid_vs_n(gan: GANTrainer, real: torch.Tensor, judge: torch.nn.Module, ns: Sequence[int], name: str, seed: int = 0):
    """FID of the GAN and of real images (against other real images) as the sample count grows:
    small-N FID is biased upwards, so two scores compare only at equal N."""
    import pandas as pd

    half = len(real) // 2
    idx = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))
    ref_all, other_all = real[idx[:half]], real[idx[half : 2 * half]]
    fake_all = gan.generate(half, seed=seed)
    rows = []
    for n in sorted({min(int(k), half) for k in ns if k >= 2}):
        metric = FID(judge, ref_all[:n], name=name)
        rows.append({"N": n, "GAN": metric.score(fake_all[:n]).value, "real vs real": metric.score(other_all[:n]).value})
    return pd.DataFrame(rows).set_index("N")


def ablation(data: ImageSet, fractions: Sequence[float], *, policy: str, judge, test_real: torch.Tensor, n_eval: int,
             name: str, epochs: int, batch: int, min_steps: int, seed: int = 0, full_run: GANTrainer | None = None,
             run=None, **spec):
    """With and without DiffAugment at each share of ``data``; a share is repeated to the full
    set's length (:func:`tiled`) and trained for as many epochs as the full set's run, so every
    run takes the same generator steps and only the amount of data differs. ``full_run``: the
    per-fruit run (all images, DiffAugment) to reuse for that cell. Returns (table, trainers).
    Scores use the same N and real reference as :func:`score_table`."""
    import pandas as pd

    full_epochs = epochs_for(len(data), batch, epochs, min_steps, (run or {}).get("epoch_share"))
    rows, runs = [], {}
    for share in fractions:
        part = fraction(data, share, seed)
        shown = tiled(part, len(data))
        for label, pol in (("DiffAugment", policy), ("no augmentation", None)):
            if full_run is not None and share == 1.0 and pol == policy:
                t = full_run
            else:
                s = gan_spec(f"{name}-{100 * share:g}pct-{'da' if pol else 'plain'}", batch=batch, policy=pol,
                             seed=seed, **spec)
                t = train_fruit_gan(shown, s, epochs=full_epochs, judge=judge, reference=data.x, run=run)
            runs[(share, label)] = t
            m = eval_n(test_real, n_eval)
            r = scores(t.generate(m, seed=seed), test_real, {"fruit classifier": judge}, m, seed)[0]
            rows.append({"share of images": f"{100 * share:g}%", "images": len(part), "training": label,
                         "FID": r["FID"], "IS": r["IS"], "final diversity": t.history[-1].get("diversity", float("nan")),
                         "D accuracy, last epoch": t.history[-1]["d_acc"]})
    return pd.DataFrame(rows).set_index(["share of images", "training"]), runs


def collapse(history: list[dict], threshold: float = 0.5) -> dict[str, Any]:
    """Mode collapse read from the per-epoch diversity: an untrained generator draws near-identical
    images, so only a fall *after* the samples first reached ``threshold`` of the real diversity
    counts. Returns the first epoch at the threshold, the later epochs below it, the lowest
    diversity after it and the final diversity."""
    d = [(h["epoch"], h["diversity"]) for h in history if "diversity" in h]
    if not d:
        raise ValueError("no diversity in this history; train with a judge (train_fruit_gan(judge=...))")
    reached = next((e for e, v in d if v >= threshold), None)
    after = [(e, v) for e, v in d if reached is not None and e > reached]
    low = min(after, key=lambda ev: ev[1]) if after else (None, float("nan"))
    return {"first epoch at threshold": reached, "epochs below after it": [e for e, v in after if v < threshold],
            "lowest after it": low[1], "at epoch": low[0], "final": d[-1][1]}


def tiled(data: ImageSet, n: int) -> ImageSet:
    """``data`` repeated (in order) up to ``n`` images, so a small share of a set makes epochs of
    the full set's length: the same steps and per-epoch records, but only its own images."""
    reps = -(-n // len(data))
    idx = torch.arange(len(data)).repeat(reps)[:max(n, len(data))]
    return data.subset(idx, f"{data.source}, repeated to {len(idx)}")


def class_sizes(train: ImageSet) -> Any:
    """This run's images per fruit beside paper 002's counts."""
    import pandas as pd

    return pd.DataFrame({"this run": dict(zip(train.classes, train.counts())),
                         "paper reported": {f: PAPER_COUNTS.get(f, "—") for f in train.classes}})


def inception_judge(weights: str | None, device="auto"):
    """The FID Inception-v3 (the 2015-12-05 weights published FIDs use) as a feature extractor,
    or None when no weights were asked for."""
    if weights is None:
        return None
    from labkit.models import FIDInceptionV3
    from labkit.runtime import pick_device

    return FIDInceptionV3(weights).to(pick_device(device))
