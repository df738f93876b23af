"""PCA per class as a linear generative baseline (paper 004, section 5).

One PCA basis per class, fitted on that class's images. Two ways to "generate":

- :meth:`ClassPCA.reconstruct` — the paper's: project real images of a class onto its first
  ``k`` components and back. These are real digits seen through ``k`` directions, not new ones.
- :meth:`ClassPCA.sample` — a real generative model: draw Gaussian coefficients with each
  component's variance (probabilistic PCA without the noise term) and map them back.
"""
from __future__ import annotations

import torch

from labkit.data.core import ImageSet


class ClassPCA:
    def __init__(self) -> None:
        self.means: list[torch.Tensor] = []
        self.bases: list[torch.Tensor] = []  # (components, D), rows sorted by variance
        self.stds: list[torch.Tensor] = []
        self.shape: tuple[int, ...] = ()

    def fit(self, data: ImageSet) -> "ClassPCA":
        self.shape = tuple(data.x.shape[1:])
        for c in range(len(data.classes)):
            x = data.of_class(c).flatten(1).double()
            if len(x) < 2:
                raise ValueError(f"class {data.classes[c]!r} has {len(x)} image(s); PCA needs at least 2")
            mean = x.mean(0)
            _, s, vh = torch.linalg.svd(x - mean, full_matrices=False)
            self.means.append(mean)
            self.bases.append(vh)
            self.stds.append(s / (len(x) - 1) ** 0.5)
        return self

    @property
    def max_components(self) -> int:
        return min(len(b) for b in self.bases)

    def _check(self, k: int) -> None:
        if not self.bases:
            raise RuntimeError("fit the PCA first")
        if not 1 <= k <= self.max_components:
            raise ValueError(f"components must be in 1..{self.max_components}; got {k}")

    def explained_variance(self, c: int) -> torch.Tensor:
        v = self.stds[c] ** 2
        return torch.cumsum(v, 0) / v.sum()

    def reconstruct(self, x: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
        self._check(k)
        flat = x.flatten(1).double()
        out = torch.empty_like(flat)
        for c in y.unique().tolist():
            m = y == c
            v = self.bases[c][:k]
            out[m] = (flat[m] - self.means[c]) @ v.T @ v + self.means[c]
        return out.float().clamp(-1, 1).view(-1, *self.shape)

    def sample(self, labels: torch.Tensor, k: int, seed: int = 0) -> torch.Tensor:
        self._check(k)
        g = torch.Generator().manual_seed(seed)
        out = torch.empty(len(labels), self.bases[0].shape[1], dtype=torch.float64)
        for c in labels.unique().tolist():
            m = labels == c
            coef = torch.randn(int(m.sum()), k, generator=g, dtype=torch.float64) * self.stds[c][:k]
            out[m] = coef @ self.bases[c][:k] + self.means[c]
        return out.float().clamp(-1, 1).view(-1, *self.shape)


def project_2d(x: torch.Tensor) -> torch.Tensor:
    """The first two principal components of all of ``x`` (for a scatter plot)."""
    flat = x.flatten(1).double()
    flat = flat - flat.mean(0)
    _, _, vh = torch.linalg.svd(flat, full_matrices=False)
    return (flat @ vh[:2].T).float()
