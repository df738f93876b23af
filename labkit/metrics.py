"""How good are generated images? Scores computed with a classifier trained on the real data.

- :func:`classifier_score`: accuracy of the classifier on generated images against the class
  each was generated for, overall and per class (what paper 004 calls its "inception score").
- :func:`inception_score`: the real Inception Score formula, exp(E_x KL(p(y|x) || p(y))),
  mean and spread over splits, computed by torchmetrics on the classifier's logits.
- :func:`fid`: the Fréchet distance between Gaussian fits of real and generated features,
  computed by torchmetrics on the classifier's penultimate features.

Both IS and FID are usually taken with Inception-v3 (ImageNet) features; here any classifier
with a ``features`` method stands in, which works offline and suits 28×28 digits. A score is
only comparable to another taken with the same features and the same number of samples:
every result says which features and how many samples it used.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from labkit.train.classifier import predict


class ClassifierFeatures(nn.Module):
    """Wrap a classifier as a torchmetrics feature extractor: ``kind="logits"`` for IS,
    ``"features"`` (its penultimate layer) for FID. Runs in evaluation mode on float images."""

    def __init__(self, classifier: nn.Module, kind: str, num_features: int, batch_size: int | None = None):
        super().__init__()
        if kind not in ("logits", "features"):
            raise ValueError(f"kind must be 'logits' or 'features'; got {kind!r}")
        self.classifier, self.kind, self.num_features, self.batch_size = classifier, kind, num_features, batch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return predict(self.classifier, x.float(), self.batch_size, features=self.kind == "features").double()


def _num_features(classifier: nn.Module, example: torch.Tensor) -> tuple[int, int]:
    logits = predict(classifier, example[:2])
    feats = predict(classifier, example[:2], features=True)
    return logits.shape[1], feats.shape[1]


@dataclass
class Score:
    value: float
    std: float | None
    n: int
    features: str

    def __str__(self) -> str:
        spread = f" ± {self.std:.3f}" if self.std is not None else ""
        return f"{self.value:.3f}{spread} (N={self.n:,}, {self.features})"


def inception_score(classifier: nn.Module, images: torch.Tensor, splits: int = 10, name: str = "classifier",
                    seed: int = 0) -> Score:
    """Inception Score of ``images`` with ``classifier``'s softmax, mean ± std over ``splits``."""
    from torchmetrics.image.inception import InceptionScore

    if len(images) < 2 * splits:
        raise ValueError(f"Inception Score over {splits} splits needs at least {2 * splits} images; got {len(images)}")
    k, _ = _num_features(classifier, images)
    state = torch.get_rng_state()
    torch.manual_seed(seed)  # torchmetrics shuffles before splitting
    with warnings.catch_warnings():  # it warns that it keeps all features: we pass thousands, not millions
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = InceptionScore(feature=ClassifierFeatures(classifier, "logits", k), splits=splits)
    metric.update(images)
    with warnings.catch_warnings():  # one split has no spread: reported as None below
        warnings.filterwarnings("ignore", message=".*degrees of freedom.*")
        mean, std = metric.compute()
    torch.set_rng_state(state)
    return Score(float(mean), float(std) if splits > 1 else None, len(images), f"{name} softmax")


class FID:
    """FID against one fixed set of real images, on a classifier's penultimate features: the
    real features are extracted once, then :meth:`score` compares any number of generated sets
    (each of the same size as the real one: FID is biased by N, so unequal N would mislead)."""

    def __init__(self, classifier: nn.Module, real: torch.Tensor, name: str = "classifier"):
        from torchmetrics.image.fid import FrechetInceptionDistance

        if len(real) < 2:
            raise ValueError("FID needs at least 2 images per set (a covariance); use thousands")
        _, d = _num_features(classifier, real)
        self.n, self.features = len(real), f"{name} penultimate features ({d}-d)"
        self.metric = FrechetInceptionDistance(feature=ClassifierFeatures(classifier, "features", d), reset_real_features=False)
        self.metric.update(real, real=True)

    def score(self, fake: torch.Tensor) -> Score:
        if len(fake) != self.n:
            raise ValueError(f"compare FID at equal sample counts; got {self.n} real and {len(fake)} generated")
        self.metric.update(fake, real=False)
        value = float(self.metric.compute())
        self.metric.reset()  # forgets the generated features only
        return Score(value, None, self.n, self.features)


def fid(classifier: nn.Module, real: torch.Tensor, fake: torch.Tensor, name: str = "classifier") -> Score:
    """FID between ``real`` and ``fake`` (of equal size) on ``classifier``'s penultimate features."""
    if len(real) != len(fake):
        raise ValueError(f"compare FID at equal sample counts; got {len(real)} real and {len(fake)} generated")
    return FID(classifier, real, name).score(fake)


def confusion_matrix(true: torch.Tensor, pred: torch.Tensor, num_classes: int) -> np.ndarray:
    """Counts: rows are the true (intended) class, columns the predicted one."""
    idx = true.long() * num_classes + pred.long()
    return torch.bincount(idx, minlength=num_classes**2).view(num_classes, num_classes).numpy()


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    rows = cm.sum(1)
    return np.divide(np.diag(cm), rows, out=np.zeros(len(cm)), where=rows > 0)


@dataclass
class ClassifierScore:
    accuracy: float
    per_class: np.ndarray
    confusion: np.ndarray
    n: int

    @classmethod
    def from_confusion(cls, cm) -> "ClassifierScore":
        """The score a confusion matrix (rows: true class, columns: predicted) holds."""
        cm = np.asarray(cm)
        return cls(float(np.trace(cm) / cm.sum()), per_class_accuracy(cm), cm, int(cm.sum()))

    def table(self, classes: list[str]):
        import pandas as pd

        return pd.DataFrame({
            "class": classes,
            "n": self.confusion.sum(1),
            "recognised": np.diag(self.confusion),
            "accuracy": np.round(self.per_class, 4),
        }).set_index("class")


def per_class_report(cm: np.ndarray, classes: list[str]) -> str:
    """Per-class accuracy in paper 001's form: "Accuracy of Angry : 53 % of 262 / 491 total",
    after one line with the overall accuracy."""
    total = int(cm.sum())
    lines = [f"Accuracy of the network on the {total} test images: {100 * np.trace(cm) / max(total, 1):.2f} %"]
    for c, name in enumerate(classes):
        n, hit = int(cm[c].sum()), int(cm[c, c])
        lines.append(f"Accuracy of {name} : {round(100 * hit / n) if n else 0} % of {hit} / {n} total")
    return "\n".join(lines)


def classifier_score(classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> ClassifierScore:
    """How often ``classifier`` recognises each image as the class it was generated (or
    labelled) for; overall, per class, and as a confusion matrix."""
    logits = predict(classifier, images)
    return ClassifierScore.from_confusion(confusion_matrix(labels.cpu(), logits.argmax(1), logits.shape[1]))


def fid_numpy(real_feats: np.ndarray, fake_feats: np.ndarray) -> float:
    """Reference FID on feature arrays with NumPy/SciPy (for checking the torchmetrics path)."""
    from scipy import linalg

    mu1, mu2 = real_feats.mean(0), fake_feats.mean(0)
    s1, s2 = np.cov(real_feats, rowvar=False), np.cov(fake_feats, rowvar=False)
    covmean = np.real(linalg.sqrtm(s1 @ s2))
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def inception_score_numpy(probs: np.ndarray) -> float:
    """Reference IS (one split) on a probability array with NumPy."""
    py = probs.mean(0, keepdims=True)
    kl = (probs * (np.log(probs + 1e-12) - np.log(py + 1e-12))).sum(1)
    return float(np.exp(kl.mean()))


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per image pair, for images in [-1, 1]: taken on the
    images mapped to [0, 1] (data range 1), with a Gaussian window (11, σ 1.5) over the positions
    where it lies inside the image, C1 = 0.01², C2 = 0.03², channels averaged; 1 for identical
    images. SSIM's luminance term compares local means as non-negative intensities (Wang et al.
    take 0–255), so it is computed on [0, 1]: on signed [-1, 1] values two mid-grey patches 0.02
    apart would score 0.33. ``x`` and ``y``: (N, C, H, W) of one shape."""
    import torch.nn.functional as F

    if x.shape != y.shape:
        raise ValueError(f"SSIM compares images of one shape; got {tuple(x.shape)} and {tuple(y.shape)}")
    x, y = (x.float() + 1) / 2, (y.float() + 1) / 2
    c = x.shape[1]
    g = torch.exp(-((torch.arange(window, dtype=torch.float64) - window // 2) ** 2) / (2 * sigma**2))
    g = (g / g.sum()).float()
    k = (g[:, None] * g[None, :]).expand(c, 1, window, window).to(x.device)
    blur = lambda t: F.conv2d(t, k, groups=c)  # noqa: E731  (valid window, as Wang et al.)
    mx, my = blur(x), blur(y)
    # (co)variances of the values less each image's mean: the same numbers, without float32's
    # cancellation in E[x²] − E[x]², which is of the order of C2 on flat images
    ox, oy = x.mean((2, 3), keepdim=True), y.mean((2, 3), keepdim=True)
    dx, dy, ex, ey = x - ox, y - oy, mx - ox, my - oy
    vx, vy, cov = blur(dx * dx) - ex**2, blur(dy * dy) - ey**2, blur(dx * dy) - ex * ey
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def nearest_ssim(fake: torch.Tensor, real: torch.Tensor, candidates: int = 8) -> torch.Tensor:
    """For each generated image, the highest SSIM to a real image (near 1: a copy of a real
    image; paper 001's "similarity of generated and original images"). SSIM is taken with the
    ``candidates`` real images nearest in pixel distance, where the most similar one lies."""
    k = min(candidates, len(real))
    d = torch.cdist(fake.flatten(1).float(), real.flatten(1).float())
    idx = d.topk(k, largest=False).indices  # (N, k)
    pairs = ssim(fake.repeat_interleave(k, 0), real[idx.flatten()])
    return pairs.view(len(fake), k).max(1).values
