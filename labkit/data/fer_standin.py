"""A procedural stand-in for FER2013, drawn by labkit: 48×48 grey faces in the seven FER2013
expressions, in FER2013's class proportions (Disgust rare), for when no copy of FER2013 is at
hand. No real face is in it.

Each face is an identity (face shape, skin and hair tone, eye spacing and size, brow thickness,
mouth width), an expression (mouth curve and opening, brow height and slant, eye opening, an
upper-lip raise for disgust) and a view (small rotation, shift and scale, a lighting gradient,
blur and noise). Expressions are drawn around a prototype per class with enough spread that
neighbouring classes overlap (fear and surprise, sad and neutral, angry and disgust), so a
classifier finds the set learnable but not trivial; ``label_noise`` mislabels a fraction of
faces, as FER2013 has mislabeled images.

How it differs from FER2013: cartoon geometry instead of photographs, no hands, glasses, text
or blank images, no duplicates, and the expression is only in the drawn features.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from labkit.data.core import ImageSet, announce
from labkit.data.fer2013 import CLASSES, COUNTS

# expression prototypes: mouth curve (+ smile), mouth opening, brow lift, brow slant
# (+ inner ends up), eye opening, upper-lip raise
_PROTO = {
    "Angry":    (-0.25, 0.05, -0.55, -0.80, 0.85, 0.00),
    "Disgust":  (-0.45, 0.10, -0.35, -0.45, 0.60, 0.90),
    "Fear":     (-0.25, 0.55, 0.45, 0.75, 1.35, 0.00),
    "Happy":    (0.90, 0.30, 0.10, 0.00, 0.80, 0.00),
    "Sad":      (-0.75, 0.00, 0.00, 0.80, 0.70, 0.00),
    "Surprise": (0.00, 1.00, 0.90, 0.15, 1.45, 0.00),
    "Neutral":  (0.00, 0.00, 0.00, 0.00, 1.00, 0.00),
}
_SPREAD = (0.32, 0.17, 0.25, 0.32, 0.20, 0.22)


def _soft(d: torch.Tensor, width: float = 0.6) -> torch.Tensor:
    """1 inside (d < 0), 0 outside, with an anti-aliased edge ``width`` pixels wide."""
    return torch.sigmoid(-d / width)


def draw_faces(labels: torch.Tensor, generator: torch.Generator, size: int = 48) -> torch.Tensor:
    """Faces for ``labels`` (class indices) as (N, 1, size, size) in [-1, 1]."""
    n = len(labels)
    g = generator

    def u(lo, hi):
        return lo + (hi - lo) * torch.rand(n, 1, 1, generator=g)

    def normal(mean, std):
        return mean + std * torch.randn(n, 1, 1, generator=g)

    proto = torch.tensor([_PROTO[c] for c in CLASSES])[labels]
    expr = proto + torch.tensor(_SPREAD) * torch.randn(n, 6, generator=g)
    curve, opening, lift, slant, eye_open, lip = (expr[:, i].view(n, 1, 1) for i in range(6))
    opening = opening.clamp(min=0)
    eye_open = eye_open.clamp(0.25, 1.8)
    lip = lip.clamp(min=0)

    s = 48 / size
    yy, xx = torch.meshgrid(torch.arange(size) * s + 0.5 * s, torch.arange(size) * s + 0.5 * s, indexing="ij")
    x, y = xx.expand(n, -1, -1) - 24, yy.expand(n, -1, -1) - 24  # face coordinates, 48-px units, centre 0

    # identity
    fw, fh = u(14.0, 18.5), u(18.0, 22.5)
    skin, hair, back = u(0.45, 0.85), u(0.0, 0.35), u(0.15, 0.9)
    eye_dx, eye_y, eye_w = u(6.0, 8.0), u(-5.0, -2.5), u(2.0, 3.0)
    brow_t, mouth_w, mouth_y = u(0.8, 1.6), u(5.0, 8.0), u(8.0, 11.0)
    hair_line = u(-16.0, -9.0)

    img = back.expand(n, size, size).clone()
    face = _soft(torch.sqrt((x / fw) ** 2 + (y / fh) ** 2) - 1, 0.04)
    img = img * (1 - face) + skin * face
    hair_mask = face * _soft(y - hair_line - 1.5 * torch.cos(x / fw * math.pi / 2))
    img = img * (1 - hair_mask) + hair * hair_mask
    dark = (skin * 0.25).expand(n, size, size)

    def paint(mask, tone=None):
        nonlocal img
        img = img * (1 - mask) + (dark if tone is None else tone) * mask

    # eyes: ellipses whose height is the eye opening; brows above them
    for side in (-1, 1):
        ex = side * eye_dx
        paint(_soft(torch.sqrt(((x - ex) / eye_w) ** 2 + ((y - eye_y) / (1.1 * eye_open)) ** 2) - 1, 0.08))
        # brow: a slanted bar; positive slant lifts the inner end (towards the nose)
        bx = x - ex
        inner = -side * bx / eye_w  # +1 at the inner end, -1 at the outer end
        by = eye_y - 4.0 - 2.2 * lift - 1.4 * slant * inner
        paint(_soft(torch.maximum((y - by).abs() - brow_t / 2, bx.abs() - 1.3 * eye_w)))
    # nose
    paint(_soft(torch.maximum(x.abs() - 0.6, (y - 2.0).abs() - 2.5)), tone=skin * 0.6)
    # mouth: a parabola (curve > 0: corners up, a smile), opened by a lower lip below it
    t = (x / mouth_w).clamp(-1, 1)
    upper = mouth_y + 3.0 * curve * (1 - t**2) - 2.0 * lip * (1 - (t - 0.3).abs().clamp(max=1))
    lower = upper + 0.6 + 4.5 * opening * (1 - t**2)
    inside = torch.maximum(torch.maximum(upper - 0.7 - y, y - lower), x.abs() - mouth_w)
    paint(_soft(inside, 0.5), tone=(skin * 0.15).expand(n, size, size))
    # wrinkle lines beside the nose for disgust
    for side in (-1, 1):
        wx = x - side * 2.2
        paint(_soft(torch.maximum(wx.abs() - 0.35 * lip.clamp(max=1), (y - 4.0).abs() - 1.8)) * (lip > 0.3), tone=skin * 0.55)

    # view: lighting gradient, then rotation, shift and scale, blur and noise
    angle = normal(0.0, 0.12).view(n)
    gx, gy = normal(0.0, 0.3), normal(0.0, 0.3)
    img = img * (1 + gx * x / 48 + gy * y / 48)
    scale = u(0.88, 1.12).view(n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) * scale
    theta[:, 0, 1] = -torch.sin(angle) * scale
    theta[:, 1, 0] = torch.sin(angle) * scale
    theta[:, 1, 1] = torch.cos(angle) * scale
    theta[:, :, 2] = 0.08 * torch.randn(n, 2, generator=g)
    grid = F.affine_grid(theta, (n, 1, size, size), align_corners=False)
    img = F.grid_sample(img.unsqueeze(1), grid, padding_mode="border", align_corners=False)
    kernel = torch.tensor([0.25, 0.5, 0.25])
    img = F.conv2d(F.pad(img, (1, 1, 1, 1), mode="replicate"), (kernel[:, None] * kernel[None, :]).view(1, 1, 3, 3))
    img = img + 0.04 * torch.randn(img.shape, generator=g)
    return (img.clamp(0, 1) * 2 - 1).float()


def make_fer_standin(n: int = 7000, seed: int = 0, label_noise: float = 0.0, size: int = 48,
                     quiet: bool = False) -> ImageSet:
    """``n`` stand-in faces in FER2013's class proportions. ``label_noise`` is the fraction of
    faces given a wrong label at random (FER2013 has some mislabeled images); the wrong label is
    drawn in proportion to the other classes' sizes, so the class proportions stay FER2013's."""
    if n < len(CLASSES):
        raise ValueError(f"n must be at least {len(CLASSES)} (one face per class); got {n}")
    if not 0 <= label_noise < 1:
        raise ValueError(f"label_noise must be in [0, 1); got {label_noise}")
    g = torch.Generator().manual_seed(seed)
    counts = torch.tensor(COUNTS, dtype=torch.float64)
    per = torch.floor(counts / counts.sum() * n).long().clamp(min=1)
    per[torch.argmax(counts)] += n - int(per.sum())
    labels = torch.repeat_interleave(torch.arange(len(CLASSES)), per)
    labels = labels[torch.randperm(n, generator=g)]
    images = torch.cat([draw_faces(labels[i : i + 2000], g, size) for i in range(0, n, 2000)])
    shown = labels.clone()
    if label_noise:
        # a wrong label is drawn in proportion to the other classes' sizes, so the class
        # proportions hold and the rare class does not fill up with mislabeled faces
        flip = torch.rand(n, generator=g) < label_noise
        weights = counts.float().repeat(int(flip.sum()), 1)
        weights[torch.arange(len(weights)), labels[flip]] = 0
        shown[flip] = torch.multinomial(weights, 1, generator=g).flatten()
    out = ImageSet(images.view(n, 1, size, size), shown, list(CLASSES),
                   f"FER2013 stand-in drawn by labkit ({n:,} faces, seed {seed}, label noise {label_noise:.0%})",
                   {"true_labels": labels})
    if not quiet:
        announce(f"using the {out.source}; pass data_dir=... for the real FER2013")
    return out
