"""A procedural stand-in for Fruits-360, drawn by labkit: 100×100 RGB fruits on a white
background in the four fruits of paper 002 (Apple, Banana, Grape, Tomato), each in a few
varieties named as Fruits-360 names them, in Fruits-360's proportions (Banana the rarest).

Like the real set, each fruit is filmed turning on a shaft: an identity (variety colour with its
own jitter, size, shape, a surface texture fixed to the fruit) is drawn, then seen at an angle of
rotation about the vertical axis, so the texture, the stem and the highlight move with the angle.
Apples have a dimple, a stem and streaks; bananas are shaded crescents with brown tips; grapes
are single berries with a dusty bloom, as Fruits-360 films them; tomatoes are flattened, glossy, with a green star-shaped calyx.

How it differs from Fruits-360: drawn shapes instead of photographs, fewer varieties, no motor
shaft or background-removal artefacts; the fruit is always centred.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from labkit.data.core import ImageSet, announce
from labkit.data.fruits360 import FRUITS, SIDE

# variety → (fruit, base RGB in [0, 1], second colour for streaks / tips)
VARIETIES = {
    "Apple Golden": ("Apple", (0.93, 0.78, 0.25), (0.85, 0.55, 0.15)),
    "Apple Granny Smith": ("Apple", (0.45, 0.75, 0.25), (0.65, 0.85, 0.35)),
    "Apple Red": ("Apple", (0.72, 0.08, 0.10), (0.45, 0.03, 0.08)),
    "Apple Red Yellow": ("Apple", (0.85, 0.55, 0.20), (0.75, 0.10, 0.10)),
    "Banana": ("Banana", (0.96, 0.85, 0.25), (0.35, 0.25, 0.10)),
    "Banana Lady Finger": ("Banana", (0.90, 0.80, 0.35), (0.40, 0.30, 0.12)),
    "Banana Red": ("Banana", (0.60, 0.22, 0.18), (0.25, 0.10, 0.08)),
    "Grape Blue": ("Grape", (0.22, 0.15, 0.35), (0.35, 0.30, 0.50)),
    "Grape Pink": ("Grape", (0.70, 0.30, 0.40), (0.80, 0.50, 0.50)),
    "Grape White": ("Grape", (0.72, 0.82, 0.40), (0.85, 0.90, 0.55)),
    "Tomato": ("Tomato", (0.85, 0.12, 0.08), (0.95, 0.30, 0.15)),
    "Tomato Cherry Red": ("Tomato", (0.90, 0.15, 0.10), (0.95, 0.35, 0.20)),
    "Tomato Maroon": ("Tomato", (0.50, 0.10, 0.10), (0.60, 0.20, 0.15)),
    "Tomato Yellow": ("Tomato", (0.95, 0.80, 0.20), (0.95, 0.65, 0.10)),
}
# images per fruit in Fruits-360's Training split (2019.05.06.1), for the stand-in's proportions
TRAINING_COUNTS = {"Apple": 6416, "Banana": 1430, "Grape": 3419, "Tomato": 3945}
_STEM = torch.tensor([0.35, 0.22, 0.10])
_CALYX = torch.tensor([0.20, 0.45, 0.12])


def _soft(d: torch.Tensor, width: float = 0.02) -> torch.Tensor:
    """1 inside (d < 0), 0 outside, with an anti-aliased edge."""
    return torch.sigmoid(-d / width)


def _grid(n: int, size: int):
    t = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(t, t, indexing="ij")
    return x.expand(n, size, size), y.expand(n, size, size)


def _col(v: torch.Tensor) -> torch.Tensor:  # (n,) → (n, 1, 1)
    return v.view(-1, 1, 1)


def _sphere(x, y, cx, cy, a, b):
    """Normalised radius, surface height and Lambert shading of an ellipsoid seen from the front."""
    u, v = (x - cx) / a, (y - cy) / b
    d = torch.sqrt(u**2 + v**2)
    z = torch.sqrt((1 - d**2).clamp(min=0))
    shade = (0.55 + 0.45 * (0.75 * z - 0.35 * u - 0.45 * v)).clamp(0.15, 1.15)
    return u, v, d, z, shade


def _paint(img, mask, rgb):
    """Composite colour ``rgb`` (n, 3, H, W) over ``img`` where ``mask`` (n, H, W) is 1."""
    m = mask.unsqueeze(1)
    return img * (1 - m) + rgb * m


def _round_fruit(kind: str, base, second, theta, g, x, y):
    """Apples and tomatoes: a shaded body with texture fixed to the surface, turning by theta."""
    n = len(theta)
    u01 = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=g)  # noqa: E731
    if kind == "Apple":
        a, b = u01(0.78, 0.94), u01(0.76, 0.9)
    elif kind == "Grape":  # one berry, a little taller than wide, filling the frame
        a, b = u01(0.7, 0.86), u01(0.86, 0.96)
    else:
        a = u01(0.74, 0.94)
        b = a * u01(0.8, 0.95)
    cx, cy = _col(u01(-0.04, 0.04)), _col(u01(0.02, 0.08))
    a, b = _col(a), _col(b)
    u, v, d, z, shade = _sphere(x, y, cx, cy, a, b)
    if kind == "Apple":  # a dimple at the top where the stem sits
        d = d + 0.18 * torch.exp(-(u / 0.25) ** 2) * torch.exp(-((v + 1) / 0.3) ** 2)
    mask = _soft(d - 1)
    # surface longitude turns with the fruit: texture and stem move across the face
    lon = torch.asin((u / torch.sqrt((1 - v**2).clamp(min=1e-3))).clamp(-1, 1)) + _col(theta)
    lat = torch.asin(v.clamp(-1, 1))
    k = torch.randint(3, 7, (n, 1, 1), generator=g).float()
    phase = _col(u01(0, 2 * math.pi))
    if kind == "Apple":  # streaks running pole to pole, plus small lenticels
        tex = 0.5 + 0.5 * torch.sin(k * lon + phase) * torch.cos(0.5 * lat)
        tex = tex * _col(u01(0.3, 0.8)) + 0.1 * (torch.sin(23 * lon + 2 * phase) * torch.sin(17 * lat) > 0.93).float()
    elif kind == "Grape":  # a dusty bloom: fine speckles of the lighter colour
        tex = 0.35 * (torch.sin(31 * lon + phase) * torch.sin(29 * lat + 2 * phase) > 0.6).float() + 0.2 * (1 - z)
    else:  # tomatoes: faint lobes
        tex = 0.15 * (0.5 + 0.5 * torch.cos(k * lon + phase))
    rgb = base.view(n, 3, 1, 1) * (1 - tex.unsqueeze(1)) + second.view(n, 3, 1, 1) * tex.unsqueeze(1)
    rgb = rgb * shade.unsqueeze(1)
    # a specular highlight, sharper on tomatoes
    hx, hy, s = -0.35, -0.4, (0.05 if kind == "Tomato" else 0.09)
    spec = torch.exp(-((u - hx) ** 2 + (v - hy) ** 2) / s) * (0.7 if kind == "Tomato" else 0.35)
    rgb = rgb + spec.unsqueeze(1)
    img = _paint(torch.ones(n, 3, *x.shape[1:]), mask, rgb)
    top_x = cx + a * 0.25 * torch.sin(_col(theta))  # the stem end seen from the side moves as it turns
    top_y = cy - b * (0.85 if kind == "Apple" else 0.9)
    if kind == "Grape":  # the small dark scar where the stalk was
        scar = _soft(torch.sqrt((x - top_x) ** 2 + ((y - top_y - 0.05) / 0.6) ** 2) - 0.035)
        return _paint(img, scar * mask, _STEM.view(1, 3, 1, 1).expand(n, 3, 1, 1) * 0.7)
    if kind == "Apple":
        stem = _soft(torch.maximum((x - top_x - 0.03 * (top_y - y) / 0.25).abs() - 0.025, (y - (top_y - 0.12)).abs() - 0.13))
        img = _paint(img, stem * (y < top_y + 0.02).float(), _STEM.view(1, 3, 1, 1).expand(n, 3, 1, 1))
    else:
        px, py = x - top_x, (y - top_y) / 0.5
        r, ang = torch.sqrt(px**2 + py**2), torch.atan2(py, px)
        star = _soft(r - 0.16 * (0.45 + 0.55 * torch.cos(5 * (ang - _col(theta))).clamp(min=0)) - 0.03)
        img = _paint(img, star, _CALYX.view(1, 3, 1, 1) * (0.8 + 0.2 * (1 - r.unsqueeze(1) / 0.2)))
    return img


def _banana(base, tip, theta, g, x, y, lady: torch.Tensor):
    """A curved, tapering crescent with a ridge and brown tips, its curve seen from a turning angle."""
    n = len(theta)
    u01 = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=g)  # noqa: E731
    tilt = _col(u01(-0.25, 0.25) + 0.3 * torch.sin(theta))
    xr = x * torch.cos(tilt) - y * torch.sin(tilt)
    yr = x * torch.sin(tilt) + y * torch.cos(tilt)
    R = _col(u01(0.9, 1.4) / (0.55 + 0.45 * torch.cos(theta).abs()))  # the curve flattens when seen edge-on
    cy = -R + _col(u01(0.1, 0.25))
    dx, dy = xr, yr - cy
    rad = torch.sqrt(dx**2 + dy**2)
    ang = torch.atan2(dx, dy)  # 0 straight below the centre
    half = _col(torch.where(lady, u01(0.5, 0.65), u01(0.8, 0.95))) / R  # half the arc's angle
    t = (ang / half).clamp(-1.5, 1.5)  # -1..1 along the banana
    thick = _col(u01(0.12, 0.2)) * torch.sqrt((1 - t**2).clamp(min=0)) + 0.01
    across = (rad - R) / thick  # -1..1 across
    mask = _soft(across.abs() - 1, 0.08) * _soft(t.abs() - 1, 0.03)
    shade = (0.6 + 0.4 * (1 - across**2).clamp(min=0) ** 0.5 - 0.15 * (across > 0.3).float() * (across - 0.3)).clamp(0.2, 1.1)
    tipness = torch.sigmoid((t.abs() - 0.85) / 0.04)
    rgb = base.view(n, 3, 1, 1) * (1 - tipness.unsqueeze(1)) + tip.view(n, 3, 1, 1) * tipness.unsqueeze(1)
    return _paint(torch.ones(n, 3, *x.shape[1:]), mask, rgb * shade.unsqueeze(1))


def draw_fruits(varieties: torch.Tensor, generator: torch.Generator, size: int = SIDE) -> torch.Tensor:
    """Fruits of the given variety indices (into ``VARIETIES``) as (N, 3, size, size) in [-1, 1]."""
    names = list(VARIETIES)
    n, g = len(varieties), generator
    out = torch.ones(n, 3, SIDE, SIDE)
    theta = 2 * math.pi * torch.rand(n, generator=g)
    jitter = 1 + 0.08 * torch.randn(n, 3, generator=g)
    for fruit in FRUITS:
        idx = torch.tensor([i for i in range(n) if VARIETIES[names[int(varieties[i])]][0] == fruit], dtype=torch.long)
        if not len(idx):
            continue
        vs = [names[int(varieties[i])] for i in idx]
        base = (torch.tensor([VARIETIES[v][1] for v in vs]) * jitter[idx]).clamp(0, 1)
        second = (torch.tensor([VARIETIES[v][2] for v in vs]) * jitter[idx]).clamp(0, 1)
        x, y = _grid(len(idx), SIDE)
        th = theta[idx]
        if fruit == "Banana":
            lady = torch.tensor([v == "Banana Lady Finger" for v in vs])
            img = _banana(base, second, th, g, x, y, lady)
        else:
            img = _round_fruit(fruit, base, second, th, g, x, y)
            if fruit == "Tomato":  # cherry tomatoes are small
                small = torch.tensor([v == "Tomato Cherry Red" for v in vs])
                if small.any():
                    shrunk = F.interpolate(img[small], scale_factor=0.7, mode="bilinear", align_corners=False)
                    p = SIDE - shrunk.shape[-1]
                    img[small] = F.pad(shrunk, [p // 2, p - p // 2] * 2, value=1.0)
        out[idx] = img
    out = (out + 0.015 * torch.randn(out.shape, generator=g)).clamp(0, 1)
    if size != SIDE:
        out = F.interpolate(out, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return out * 2 - 1


def make_fruits_standin(n: int = 2000, seed: int = 0, size: int = SIDE, fruits=None, group: bool = True,
                        quiet: bool = False) -> ImageSet:
    """``n`` stand-in fruits in Fruits-360's Training proportions, labelled by fruit (``group``,
    paper 002) or by variety; ``meta["variety"]`` keeps each image's variety either way."""
    fruits = list(fruits or FRUITS)
    bad = [f for f in fruits if f not in FRUITS]
    if bad:
        raise ValueError(f"the stand-in draws {FRUITS}; got {bad}")
    if n < 4 * len(fruits):
        raise ValueError(f"n must be at least {4 * len(fruits)} (a few images per fruit); got {n}")
    g = torch.Generator().manual_seed(seed)
    total = sum(TRAINING_COUNTS[f] for f in fruits)
    per_fruit = [max(4, round(n * TRAINING_COUNTS[f] / total)) for f in fruits]
    per_fruit[0] += n - sum(per_fruit)
    chosen = [v for v in VARIETIES if VARIETIES[v][0] in fruits]
    variety = []
    for f, m in zip(fruits, per_fruit):
        mine = [chosen.index(v) for v in chosen if VARIETIES[v][0] == f]
        variety += [mine[i % len(mine)] for i in range(m)]
    variety = torch.tensor(variety, dtype=torch.long)
    all_names = list(VARIETIES)
    x = draw_fruits(torch.tensor([all_names.index(chosen[v]) for v in variety.tolist()]), g, size)
    if group:
        y = torch.tensor([fruits.index(VARIETIES[chosen[v]][0]) for v in variety.tolist()], dtype=torch.long)
        classes = fruits
    else:
        y, classes = variety, chosen
    s = ImageSet(x, y, list(classes), f"the Fruits-360 stand-in drawn by labkit ({n:,} images, {size}x{size})",
                 {"variety": variety, "varieties": chosen})
    if not quiet:
        counts = ", ".join(f"{c} {k:,}" for c, k in zip(classes, s.counts()))
        announce(f"no data_dir given: using {s.source}, not real photographs ({counts})")
    return s
