"""Place the chapters' course content into the notebooks.

    .venv/bin/python tools/chapter_content.py [--notebooks DIR]     # DIR: notebooks/ by default

What it places, per chapter: the pieces of labkit that carry the chapter's method, shown with
``labkit.show.source`` where the text explains the method (so the page shows the code that runs);
in chapter 004 a GAN loop written by hand before labkit's; exercises with folded solutions at the
end (their code is run by tests/test_exercises.py); citations of the source paper, the methods and
the datasets ({cite:p} roles, keys in references.bib).

How: new cells go after an anchor cell, found by a line of its text that must be in exactly one
cell. Each new cell carries the tag "course-content" and its key (metadata "course_content", also
its cell id): a rerun replaces it in place, never adds a copy, and removes content cells this
script no longer makes. A citation is an exact replacement of a phrase in a markdown cell, skipped
when the cited text is already there. Notebooks are written as the repository writes them.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

TAG = "course-content"
ROOT = Path(__file__).resolve().parent.parent


def md(key: str, text: str) -> dict:
    return {"cell_type": "markdown", "key": key, "text": text.strip()}


def code(key: str, text: str) -> dict:
    return {"cell_type": "code", "key": key, "text": text.strip()}


def exercise(key: str, number: str, title: str, question: str, solution: str) -> dict:
    """One markdown cell: the exercise, then its solution folded (the book's MyST pattern)."""
    return md(key, f":::{{admonition}} Exercise {number}: {title}\n{question.strip()}\n:::\n\n"
                   f":::{{admonition}} Solution\n:class: dropdown\n\n{solution.strip()}\n:::")


EXERCISES_INTRO = """\
## Exercises

Each exercise has its solution folded under it. Commands run from the repository root. The code in
a solution runs on its own, in a fresh kernel, in seconds, and prints what the solution says it
prints: the test suite runs it (`tests/test_exercises.py`)."""


def exercises_at(anchor: str, chapter: str, *items: dict) -> tuple[str, list[dict]]:
    """The chapter's exercises after ``anchor``: a heading and a word on solutions, then the exercises."""
    return anchor, [md(f"cc-{chapter}-exercises", EXERCISES_INTRO), *items]


# ============================================================================================
# 000: FER2013, DCGAN augmentation of the weak classes
# ============================================================================================
C000 = dict(
    cite=[
        ('Adversarial Network". With the emotion classifiers',
         'Adversarial Network" {cite:p}`hasan_ali`. With the emotion classifiers'),
        ('GANs", Part B), which every FER chapter', 'GANs", Part B) {cite:p}`birenbaum`, which every FER chapter'),
        ("FER2013 holds 35,887 grey 48×48 faces", "FER2013 {cite:p}`goodfellow2013fer` holds 35,887 grey 48×48 faces"),
        ("GAN-made faces of the weak classes fix that:",
         "GAN-made faces {cite:p}`goodfellow2014gan` of the weak classes fix that:"),
        ("2. train a DCGAN on each weak class alone",
         "2. train a DCGAN {cite:p}`radford2016dcgan` on each weak class alone"),
        ("the Wasserstein GAN with gradient penalty (WGAN-GP, Gulrajani et al. 2017)",
         "the Wasserstein GAN {cite:p}`arjovsky2017wgan` with gradient penalty (WGAN-GP, {cite:t}`gulrajani2017wgangp`)"),
        ("The conditional GAN is the paper's own suggestion",
         "The conditional GAN {cite:p}`mirza2014cgan` is the paper's own suggestion"),
    ],
    insert=[
        ("generator map sizes after each convolution", [
            md("cc-000-penalty-text", r"""
The loss as labkit computes it. `WGANGPLoss` is the objective above, one method per term, and its
`penalty` calls `gradient_penalty`. What to look at there: the interpolation factor `a` is drawn once
per *sample* (shape N×1×1×1), so every pixel of an interpolate $\hat x$ mixes real and fake in the same
proportion; real and fake are detached, so $\hat x$ is a fresh leaf whose gradient we can ask for;
`create_graph=True` lets the penalty's own gradient reach the critic's weights; and the norm is taken
over all of a sample's pixels at once (`grad.flatten(1)`)."""),
            code("cc-000-penalty-source", """
from labkit.losses import WGANGPLoss, gradient_penalty
from labkit.show import source

display(source(WGANGPLoss))
source(gradient_penalty)"""),
        ]),
        ("One GAN per weak class, trained on that class's faces only.", [
            md("cc-000-loop-text", """
The weak-class loop is `ch.class_gans`: for each weak class a `gan_spec` named after the class,
trained by `fit` on that class's faces alone (`one_class`, relabelled as a one-class set) for
`epochs(c)` epochs. The chapter passes `ch.gan_epochs_for`, the rare-class rule above. Because each
run's folder is named after its spec and its data, every class gets its own checkpoint, and a rerun
resumes each one."""),
            code("cc-000-loop-source", """
from labkit.show import source

display(source(ch.gan_epochs_for))
source(ch.class_gans)"""),
        ]),
        exercises_at("## What to take away", "000",
            exercise("cc-000-ex1", "000.1", "The original GAN loss instead of WGAN-GP", r"""
The chapter reads the paper's loss as WGAN-GP. Rerun it with the original GAN loss:

```bash
.venv/bin/papermill notebooks/000_fer_dcgan_augmentation.ipynb fer_bce.ipynb -p gan_loss bce
```

Before you look: how should the loss curves of the per-class GANs change, which runs train again
and which are reused from their run folders, and what can you *not* predict?""", r"""
With `gan_loss = "wgan-gp"` the critic's loss $\mathbb E[D(G(z))] - \mathbb E[D(x)]$ is a difference of
unbounded scores: it goes negative as the critic separates real from fake, and the generator's loss
$-\mathbb E[D(G(z))]$ can take either sign. With `"bce"` both are binary cross-entropies of the
discriminator's logits and never negative; the discriminator's (a real term plus a fake term) is
$2\ln 2 \approx 1.39$ and the generator's $\ln 2 \approx 0.69$ when the discriminator cannot tell
(it says ½ to everything). There is no gradient penalty, so the steps record no `penalty`.

The classifiers are reused: their specs did not change. The per-class GANs and the conditional GAN
train again, because the loss is part of their `GANSpec` and so of their run folders, and every
condition that adds generated faces retrains its classifier on the new faces (other data, other
folder). The oversampling and class-weight conditions are reused.

What you cannot predict is which loss gives faces that the baseline recognises more often and that
help the weak classes more. Read the quality table and the comparison over seeds, and treat a
difference within the seed-to-seed spread as none."""),
            exercise("cc-000-ex2", "000.2", "The gradient penalty by hand", r"""
Check `gradient_penalty` (shown under *Paper 000's DCGAN*) on two critics whose gradients you know:
a linear critic $C(x) = \langle w, x\rangle$ with $\lVert w\rVert = 3$, and
$C(x) = \tfrac12\lVert x\rVert^2$, whose gradient at $\hat x$ is $\hat x$ itself. For the second, draw
the interpolation factors yourself from a generator seeded like the one you pass to
`gradient_penalty(..., generator=...)`, so that both use the same $\hat x$. What does the first result
say about any linear critic?""", r"""
A linear critic has the gradient $w$ at every point, so its penalty is $(\lVert w\rVert - 1)^2 = 4$
wherever the interpolates lie: only a slope of exactly 1 along the lines between real and fake costs
nothing, which is what WGAN-GP asks of its critic. The quadratic critic's gradient norm at each
interpolate is that interpolate's length, so its penalty depends on the factors $a$, one per sample:

```python
import torch
from labkit.losses import gradient_penalty

torch.manual_seed(0)
real, fake = torch.randn(4, 1, 6, 6), torch.randn(4, 1, 6, 6)

# 1. A linear critic C(x) = <w, x> has the gradient w everywhere, so the penalty is (|w| - 1)^2.
w = torch.zeros(1, 6, 6)
w[0, 0, :3] = torch.tensor([1.0, 2.0, 2.0])  # |w| = 3
linear = lambda x: (x * w).flatten(1).sum(1)
print(f"linear critic:    labkit {gradient_penalty(linear, real, fake).item():.4f}, by hand {(3 - 1) ** 2:.4f}")

# 2. C(x) = |x|^2 / 2 has the gradient x, so the penalty depends on where x_hat lies.
quadratic = lambda x: 0.5 * (x**2).flatten(1).sum(1)
a = torch.rand(4, 1, 1, 1, generator=torch.Generator().manual_seed(7))  # one factor per sample
x_hat = a * real + (1 - a) * fake
by_hand = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
theirs = gradient_penalty(quadratic, real, fake, generator=torch.Generator().manual_seed(7))
print(f"quadratic critic: labkit {theirs.item():.4f}, by hand {by_hand.item():.4f}")
```

It prints:

```text
linear critic:    labkit 4.0000, by hand 4.0000
quadratic critic: labkit 10.6449, by hand 10.6449
```"""),
            exercise("cc-000-ex3", "000.3", "How much is a Disgust face worth?", r"""
The comparison's condition *+ class-weighted loss* weighs each class in the cross-entropy by
$n / (k\, n_c)$: $n$ faces, $k$ classes, $n_c$ faces of class $c$ (`labkit.runs.class_weights`).
Compute the seven weights by hand for FER2013's counts (35,887 faces: Angry 4,953, Disgust 547,
Fear 5,121, Happy 8,989, Sad 6,077, Surprise 4,002, Neutral 6,198) and check them against labkit. One
Disgust face weighs as much as how many Happy faces? And how much does random oversampling, with
`n_generate` = 1,000 repeated Disgust faces at the paper's scale, raise Disgust's share of the loss?""", r"""
```python
import torch
from labkit.data import ImageSet
from labkit.runs import class_weights

classes = ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]
counts = [4953, 547, 5121, 8989, 6077, 4002, 6198]  # FER2013, all 35,887 faces (paper 000)
by_hand = [sum(counts) / (len(counts) * n) for n in counts]

labels = torch.repeat_interleave(torch.arange(7), torch.tensor(counts))
faces = ImageSet(torch.zeros(len(labels), 1, 1, 1), labels, classes)  # the images do not matter here
for name, mine, theirs in zip(classes, by_hand, class_weights(faces).tolist()):
    print(f"{name:8s} by hand {mine:.3f}, labkit {theirs:.3f}")
print(f"one Disgust face weighs as much as {by_hand[1] / by_hand[3]:.1f} Happy faces")
```

It prints:

```text
Angry    by hand 1.035, labkit 1.035
Disgust  by hand 9.372, labkit 9.372
Fear     by hand 1.001, labkit 1.001
Happy    by hand 0.570, labkit 0.570
Sad      by hand 0.844, labkit 0.844
Surprise by hand 1.281, labkit 1.281
Neutral  by hand 0.827, labkit 0.827
one Disgust face weighs as much as 16.4 Happy faces
```

With the weights every class contributes $n_c \cdot n/(k\,n_c) = n/k$, the same share of the loss;
Disgust's share grows 9.4-fold. Oversampling 1,000 repeated faces takes Disgust from 547 to 1,547 faces,
about 2.8 times its share. Both re-weight the same 547 faces and add no new one, which is why the
chapter compares the GAN's faces against them: generated faces are worth something only if they beat
these cheap ways of counting the rare faces more."""),
        ),
    ],
)

# ============================================================================================
# 001: FER2013, CycleGAN emotion transfer
# ============================================================================================
C001 = dict(
    cite=[
        ('"Data Augmentation Using GANs" (project slides), with CycleGAN',
         '"Data Augmentation Using GANs" (project slides) {cite:p}`birenbaum`, with CycleGAN'),
        ('Networks" (2017).*', 'Networks" {cite:p}`zhu2017cyclegan`.*'),
        ("FER2013 runs full-width networks", "FER2013 {cite:p}`goodfellow2013fer` runs full-width networks"),
        ("critics (no sigmoid) trained with a gradient penalty (λ = 10)",
         "critics (no sigmoid) {cite:p}`arjovsky2017wgan` trained with a gradient penalty (λ = 10) {cite:p}`gulrajani2017wgangp`"),
        ("(FID on the judge's features,", "(FID {cite:p}`heusel2017fid` on the judge's features,"),
        ('is the DCGAN for 1×48×48 faces', 'is the DCGAN {cite:p}`radford2016dcgan` for 1×48×48 faces'),
    ],
    insert=[
        ('PatchDiscriminator(1, P.F)', [
            md("cc-001-patch-text", """
Where the 4×4 map and the features come from: `body` holds the PatchGAN's convolutions (stride 2 three
times, 48 → 24 → 12 → 6, then a stride-1 convolution, 6 → 5), `head` the last one (5 → 4), one score
per overlapping patch. `features` returns what `body` gives, the activations the weighted cycle loss
compares; `forward` returns raw scores, which the least-squares loss reads directly and a Wasserstein
critic reads as its score."""),
            code("cc-001-patch-source", """
from labkit.show import source

source(PatchDiscriminator)"""),
        ]),
        ("## Part A: three CycleGANs", [
            md("cc-001-cycle-text", r"""
The weighted cycle loss as labkit computes it, term by term as the formula above: `weight` is
$D_A(a)$, the discriminator's mean score on the real face clamped to [0, 1], and `target` is
$f_{D_A}(a)$; both are computed without gradient, so the generators learn only through `recovered`,
$F(G(a))$. The norms are means over each face's elements, and `gamma` moves the comparison from
pixels (0) to features (1)."""),
            code("cc-001-cycle-source", """
from labkit.losses import weighted_cycle_loss
from labkit.show import source

source(weighted_cycle_loss)"""),
            md("cc-001-step-text", """
One training step, the same for all three variants. The discriminators learn first, on real faces and
on fakes drawn through the pools of past fakes (`pool_A`, `pool_B`), with `d_steps` critic steps and a
gradient penalty when the loss is Wasserstein (for least squares `penalty` is 0). Then the generators,
on the adversarial loss plus `lambda_cyc` times the cycle loss of both directions (`_cycle`: pixel L1,
or the weighted loss with this epoch's `gamma()`), plus `lambda_cyc · lambda_id` times the identity loss
when `lambda_id` is above 0 (it is 0 in this chapter, as in paper 001's objective)."""),
            code("cc-001-step-source", """
from labkit.train import CycleGANTrainer

display(source(CycleGANTrainer._cycle))
source(CycleGANTrainer.train_step)"""),
        ]),
        exercises_at("## What to take away", "001",
            exercise("cc-001-ex1", "001.1", "Twice the epochs", r"""
Rerun the chapter with twice the quick profile's three CycleGAN epochs:

```bash
.venv/bin/papermill notebooks/001_fer_cyclegan_emotion_transfer.ipynb cyclegan_6.ipynb -p epochs 6
```

Which runs train again and which are reused? How do $\gamma$ of the weighted cycle loss and the
learning rates move over the six epochs, against the three of the quick profile?""", r"""
All four CycleGANs (the three variants for the main pair and the weighted cycle for the second
target) train again *from their first step*, not from their three-epoch checkpoints. A CycleGAN's
schedules are functions of its total epochs, so `fit` puts the epochs into a CycleGAN run's key
(`run_key(spec, ..., epochs=epochs)`); a GAN or a classifier, asked for more epochs, would continue.
The judge and Part B's GANs and classifiers do not depend on `epochs` and are reused.

$\gamma$ in an epoch is `epoch / (epochs - 1)`, counting the epochs done: 0, 0.5, 1 over three
epochs; 0, 0.2, 0.4, 0.6, 0.8, 1 over six, so the cycle loss moves from pixels to the discriminator's
features more gradually. The learning rates (`lr_factor`) stay at their start until half of the epochs
are done and then fall linearly towards 0 after the last: 1, 1, ½ over three epochs; 1, 1, 1, 1, ⅔, ⅓
over six. Look at whether the translations move further from the input (SSIM), are recognised as the
target more often, and at what cost in time; with one seed per variant, small differences are noise."""),
            exercise("cc-001-ex2", "001.2", "The weighted cycle loss by hand", r"""
Compute paper 001's weighted cycle loss (the formula under *Part A*) by hand for a toy discriminator
whose score map is the image itself and whose features $f_D$ are twice the image, on three two-pixel
faces $a$ = (0.5, 0.5), (1, 1) and (−1, −1), each recovered with the errors (0.2, 0.4), at
$\gamma$ = 0, 0.5 and 1. Compare with `labkit.losses.weighted_cycle_loss`. What does the third face
contribute, and why would the slides want that?""", r"""
$D(a)$, the mean score clamped to [0, 1], weighs the three faces 0.5, 1 and 0; the pixel error is 0.3
for each face and the feature error twice that. So the loss is $(0.5 + 1 + 0) \cdot 0.3 / 3 = 0.15$ at
$\gamma = 0$, $(0.5 + 1 + 0) \cdot 0.6 / 3 = 0.3$ at $\gamma = 1$, and halfway between at 0.5:

```python
import torch
from torch import nn
from labkit.losses import weighted_cycle_loss


class ToyD(nn.Module):  # a "discriminator": its score map is the image itself, its features twice it
    def features(self, x):
        return 2 * x

    def forward(self, x):
        return x


a = torch.tensor([[0.5, 0.5], [1.0, 1.0], [-1.0, -1.0]]).view(3, 1, 1, 2)  # three tiny faces
recovered = a + torch.tensor([0.2, 0.4]).view(1, 1, 1, 2)  # F(G(a)): off by 0.3 on average
weight = a.flatten(1).mean(1).clamp(0, 1)  # D(a): 0.5, 1 and 0
pixel = (recovered - a).abs().flatten(1).mean(1)  # 0.3 for each face
feature = (2 * recovered - 2 * a).abs().flatten(1).mean(1)  # 0.6 for each face
for gamma in (0.0, 0.5, 1.0):
    by_hand = (weight * (gamma * feature + (1 - gamma) * pixel)).mean()
    theirs = weighted_cycle_loss(a, recovered, ToyD(), gamma)
    print(f"gamma {gamma}: by hand {by_hand.item():.4f}, labkit {theirs.item():.4f}")
```

It prints:

```text
gamma 0.0: by hand 0.1500, labkit 0.1500
gamma 0.5: by hand 0.2250, labkit 0.2250
gamma 1.0: by hand 0.3000, labkit 0.3000
```

The third face, which the discriminator scores 0 (it finds this *real* face unconvincing), contributes
nothing: the generators are not pushed to reproduce faces that do not look like their domain, such as
a mislabeled or odd face. As $\gamma$ rises they are asked to keep what the discriminator looks at
rather than every pixel."""),
            exercise("cc-001-ex3", "001.3", "A perfect cycle in the widget", r"""
In the *Try it* widget, move the face slider, for each variant, until the judge does not call the translation
the target, and look at all three images. Then compute the SSIM to the input and the cycle error of
a "translation" that changes nothing, and of one that brightens the mouth while the way back darkens
it again. What does the measured table need besides SSIM and cycle error?""", r"""
A failed translation often comes back almost perfectly. The cycle loss asks only $F(G(a)) \approx a$,
and the identity loss, where it is on (`lambda_id`), asks $G(b) \approx b$, so a generator that changes
little is easy to invert and cheap under both:

```python
import torch
from labkit.metrics import ssim

torch.manual_seed(0)
faces = torch.rand(8, 1, 48, 48) * 2 - 1  # any faces in [-1, 1]
mouth = torch.zeros(1, 1, 48, 48)
mouth[..., 32:38, 14:34] = 0.5  # brighten the mouth region: a stand-in for "now smiling"
for name, there, back in [("no change", lambda x: x, lambda x: x),
                          ("mouth changed", lambda x: x + mouth, lambda x: x - mouth)]:
    translated = there(faces)
    recovered = back(translated)
    print(f"{name}: SSIM to the input {ssim(translated, faces).mean().item():.3f}, "
          f"cycle error {(recovered - faces).abs().mean().item():.3f}")
```

It prints:

```text
no change: SSIM to the input 1.000, cycle error 0.000
mouth changed: SSIM to the input 0.985, cycle error 0.000
```

Doing nothing wins both columns, and any change the other generator can undo has a cycle error of 0
too: a small cycle error says the person can be recovered, not that the expression changed. That is
why the table has the recognition column and the *(no translation)* row: a translation counts only if
the judge calls it the target more often than the untouched faces."""),
        ),
    ],
)

# ============================================================================================
# 002: Fruits-360, a DCGAN per fruit with DiffAugment
# ============================================================================================
C002 = dict(
    cite=[
        ('"Image Generation using DCGAN", with DiffAugment',
         '"Image Generation using DCGAN" {cite:p}`aryan_kashyap`, with DiffAugment'),
        ('Data-Efficient GAN Training" (2020).*', 'Data-Efficient GAN Training" {cite:p}`zhao2020diffaugment`.*'),
        ("**one DCGAN per fruit** of Fruits-360 (apples",
         "**one DCGAN per fruit** of Fruits-360 {cite:p}`muresan2018fruits` (apples"),
        ("the **Inception Score** and the **Fréchet Inception Distance**",
         "the **Inception Score** {cite:p}`salimans2016improved` and the **Fréchet Inception Distance** {cite:p}`heusel2017fid`"),
        ("**DiffAugment** applies the *same kind*",
         "**DiffAugment** {cite:p}`zhao2020diffaugment` applies the *same kind*"),
        ("The paper follows Radford's DCGAN rules",
         "The paper follows Radford's DCGAN rules {cite:p}`radford2016dcgan`"),
    ],
    insert=[
        ("aug = DiffAugment(P.policy", [
            md("cc-002-color-text", """
The colour operations as labkit runs them. Each draws its factor with `_u`: one number per image, shaped
N×1×1×1, so a whole image turns brighter, greyer or flatter, as under other light. Saturation scales
each pixel's deviation from its mean over the *channels* (its grey); contrast scales the deviation from
the mean of the whole *image*. All three are sums and products of the image, so the generator's
gradient passes straight through them."""),
            code("cc-002-color-source", """
from labkit.show import source

for op in (DiffAugment._u, DiffAugment.brightness, DiffAugment.saturation, DiffAugment.contrast):
    display(source(op))"""),
            md("cc-002-spatial-text", """
Translation and cutout move or blank whole regions by indexing into a zero-padded copy and by a mask,
so they pass the gradient on to every pixel they keep. `__call__` applies the policy's operations in
order; the GAN trainer calls it on real and fake images alike, in both steps."""),
            code("cc-002-spatial-source", """
for op in (DiffAugment.translation, DiffAugment.cutout_mask, DiffAugment.cutout, DiffAugment.__call__):
    display(source(op))"""),
        ]),
        exercises_at("## What to take away", "002",
            exercise("cc-002-ex1", "002.1", "IS and FID from fewer samples", r"""
Rerun the chapter with 100 samples behind IS and FID instead of the quick profile's 400:

```bash
.venv/bin/papermill notebooks/002_fruits_dcgan_diffaugment.ipynb fruits_n100.ipynb -p n_eval 100
```

Before you look: which rows of the IS/FID table change, in which direction, and which do not change
at all? Which runs train again? What happens to the paper's banana puzzle?""", r"""
Nothing trains again: `n_eval` is in no spec, so every `fit` finds its run folder, and the rerun only
scores. A fruit is scored at N = `min(n_eval, half its held-out photos)`; in the quick profile's
stand-in that was 400 for apples, 94 for bananas (188 held-out photos), 225 for grapes and 259 for
tomatoes. Now it is 100, 94, 100 and 100.

- Apples, grapes and tomatoes: their FIDs and their real-vs-real floors rise, the apples' most (from
  N = 400). FID compares Gaussians estimated from $N$ samples, and the estimation noise adds to the
  distance (exercise 002.3 measures it). The IS spread over 10 splits grows, with 10 images per split.
- Bananas: their rows do not change at all, nor does the DiffAugment ablation, which uses bananas:
  they were already scored at 94, with the same seed.
- For the first time the four fruits are compared at (nearly) one N. The paper's bananas had the worst
  FID of the four, on fewer samples than the others; whether the bananas still rank last at equal N is
  exactly the test of the paper's explanation that this rerun makes.

The section *FID depends on how many samples you take* does not change: it chooses its own N."""),
            exercise("cc-002-ex2", "002.2", "DiffAugment's colour by hand", r"""
Write DiffAugment's colour operation yourself for a batch of images in [−1, 1]: brightness (add one
U(−0.5, 0.5) per image), then saturation (scale each pixel's deviation from its mean over the channels
by U(0, 2)), then contrast (scale the deviation from the image's mean by U(0.5, 1.5)). Draw the three
factors from a `torch.Generator` seeded like the one you give `DiffAugment("color", generator=...)`, in
the same order, and check that your result equals labkit's. Why must every operation be
differentiable?""", r"""
```python
import torch
from labkit.augment import DiffAugment

torch.manual_seed(0)
x = torch.rand(4, 3, 8, 8) * 2 - 1  # four colour images in [-1, 1]

g = torch.Generator().manual_seed(0)  # the same random draws as DiffAugment's, in the same order


def u():  # one uniform number per image, shaped (N, 1, 1, 1) to broadcast over channels and pixels
    return torch.rand(len(x), 1, 1, 1, generator=g)


y = x + (u() - 0.5)  # brightness: add U(-0.5, 0.5)
m = y.mean(dim=1, keepdim=True)  # each pixel's mean over the channels (its grey value)
y = (y - m) * (2 * u()) + m  # saturation: scale the colour around the grey by U(0, 2)
m = y.mean(dim=(1, 2, 3), keepdim=True)  # each image's mean
y = (y - m) * (u() + 0.5) + m  # contrast: scale around the image mean by U(0.5, 1.5)

ours = DiffAugment("color", generator=torch.Generator().manual_seed(0))(x)
print("the same as DiffAugment('color'):", torch.allclose(y, ours, atol=1e-6))
```

It prints:

```text
the same as DiffAugment('color'): True
```

The generator learns through the discriminator's verdict on *augmented* fakes, $D(T(G(z)))$: its
gradient reaches $G$ only through $T$. A $T$ without a gradient would cut the generator off from
everything the discriminator says, and augmenting only the real images would teach the generator to
draw augmented images."""),
            exercise("cc-002-ex3", "002.3", "FID by hand", r"""
Write FID with NumPy and SciPy for two arrays of features, one row per image:
$\lVert\mu_r-\mu_g\rVert^2+\mathrm{Tr}\big(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2}\big)$. Test it on
2,000 draws of four standard Gaussian features against 2,000 draws whose mean is moved by 0.5 in every
feature (what should it give?), and compare it with `labkit.metrics.fid_numpy` and with the
torchmetrics computation behind the chapter's scores (`labkit.metrics.fid`, with a "classifier" whose
features are the four numbers themselves). Then score the same distribution against itself at
N = 20, 200 and 2,000.""", r"""
The covariances are equal, so only the means count: $4 \times 0.5^2 = 1$, plus estimation noise.

```python
import numpy as np
import torch
from scipy import linalg
from torch import nn
from labkit import metrics


def fid_by_hand(f1, f2):
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real  # the matrix square root; tiny imaginary parts are noise
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


rng = np.random.default_rng(0)
real = rng.normal(0.0, 1.0, (2000, 4))
fake = rng.normal(0.5, 1.0, (2000, 4))  # the mean moved by 0.5 in each of 4 features: FID near 4 x 0.25 = 1
print(f"by hand {fid_by_hand(real, fake):.3f}, labkit.metrics.fid_numpy {metrics.fid_numpy(real, fake):.3f}")


class Identity(nn.Module):  # a "classifier" whose penultimate features are the four numbers themselves
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 2)

    def features(self, x):
        return x.flatten(1)

    def forward(self, x):
        return self.head(self.features(x))


as_images = lambda f: torch.tensor(f, dtype=torch.float32).view(-1, 1, 2, 2)
print(f"labkit.metrics.fid (torchmetrics) {metrics.fid(Identity(), as_images(real), as_images(fake)).value:.3f}")
for n in (20, 200, 2000):  # the same distribution against itself
    print(f"real vs real, N = {n}: {fid_by_hand(rng.normal(size=(n, 4)), rng.normal(size=(n, 4))):.3f}")
```

It prints:

```text
by hand 1.044, labkit.metrics.fid_numpy 1.044
labkit.metrics.fid (torchmetrics) 1.044
real vs real, N = 20: 0.667
real vs real, N = 200: 0.038
real vs real, N = 2000: 0.012
```

The three computations agree. Two samples of one distribution score far from 0 at small N: that is
estimation noise alone, and with the hundreds of features of a real classifier (2,048 for
Inception-v3) it is far larger than with four. The chapter's real-vs-real floor and its FID-against-N
curve are this effect on real photos."""),
        ),
    ],
)

# ============================================================================================
# 003: FER2013, the Radford DCGAN per expression
# ============================================================================================
C003 = dict(
    cite=[
        ('"Project Report ECE 176", after Radford', '"Project Report ECE 176" {cite:p}`mo_ece176`, after Radford'),
        ('Adversarial Networks" (2016).*', 'Adversarial Networks" {cite:p}`radford2016dcgan`.*'),
        ("checks it on CelebA (about 200,000 colour",
         "checks it on CelebA {cite:p}`liu2015celeba` (about 200,000 colour"),
        ("**one generator per FER2013 expression**",
         "**one generator per FER2013 expression** {cite:p}`goodfellow2013fer`"),
        ("one *class-conditional* DCGAN trained on all",
         "one *class-conditional* DCGAN {cite:p}`mirza2014cgan` trained on all"),
        ("We score both with FID and Inception Score computed",
         "We score both with FID {cite:p}`heusel2017fid` and Inception Score {cite:p}`salimans2016improved` computed"),
    ],
    insert=[
        ("## The network, exactly as listed", [
            md("cc-003-generator-text", r"""
The generator as labkit builds it, for every image size. `_layout(size)` gives the first kernel $k$
and the number $n$ of stride-2 layers (printed first); the first transposed convolution grows the
1×1 noise to $k$×$k$, the loop over `zip(c, c[1:])` writes the middle layers, each doubling the map,
and the last one draws `channels` channels. No layer has a bias, and `init_weights(self, "dcgan")`
draws the $\mathcal N(0, 0.02)$ weights. With `num_classes` the one-hot label joins the noise
(`with_label`)."""),
            code("cc-003-generator-source", """
from labkit.models.radford import _layout
from labkit.show import source

print("image side: (first kernel, stride-2 layers) =", {s: _layout(s) for s in (32, 48, 64, 96)})
source(RadfordGenerator)"""),
            md("cc-003-discriminator-text", r"""
The discriminator mirrors it: no batch norm after the first convolution, leaky ReLU 0.2, and a last
convolution with kernel $k$ to one score. It returns that score as a logit (`.flatten()`), without
the table's sigmoid, which lives in the loss. A conditional discriminator reads a learned label plane
as one more input channel (`LabelPlane`)."""),
            code("cc-003-discriminator-source", """
source(RadfordDiscriminator)"""),
        ]),
        exercises_at("## What to take away", "003",
            exercise("cc-003-ex1", "003.1", "A smaller batch, more steps", r"""
The chapter trains every per-expression generator for the same number of epochs at batch 128. Rerun
it at batch 32:

```bash
.venv/bin/papermill notebooks/003_fer_dcgan_per_expression.ipynb fer_dcgan_b32.ipynb -p batch 32
```

How many generator steps does each expression's generator take per epoch, before and after? (The
titles of the per-expression plots give the totals.) Work it out first from the stand-in's class
sizes. What do you expect to see in the grids, and which runs train again?""", r"""
`fit` cuts a training set into batches of `min(batch, faces)` and drops the last incomplete one, so a
class with fewer faces than the batch takes one step per epoch:

```python
from labkit.data.fer_standin import make_fer_standin
from labkit.experiments import radford as ch

P = ch.SPEC.resolve({})  # the quick profile: the stand-in, batch 128
train = make_fer_standin(P.n_standin, seed=0, quiet=True)  # the chapter's training faces
for name in P.expressions:
    n = train.counts()[train.classes.index(name)]
    steps = {b: n // min(b, n) for b in (128, 32)}
    print(f"{name}: {n} faces; steps per epoch: {steps[128]} at batch 128, {steps[32]} at batch 32")
```

It prints:

```text
Happy: 1054 faces; steps per epoch: 8 at batch 128, 32 at batch 32
Surprise: 468 faces; steps per epoch: 3 at batch 128, 14 at batch 32
Disgust: 64 faces; steps per epoch: 1 at batch 128, 2 at batch 32
```

At batch 32, Happy's and Surprise's generators take four to five times as many steps in the same 20
epochs and should form faces earlier in the epoch-by-epoch grids. Disgust, whose 64 faces were one
batch, only doubles its steps (20 to 40 in all), so the gap between the common and the rare expression
widens: "equal epochs" favour the common ones even more. Every DCGAN trains again (the batch is part of
its `GANSpec`), the conditional one too; the judge (batch 64) is reused. A smaller batch also changes
batch norm (statistics of 32 faces) and the noise of each step, so whether it helps is for the grids and
the scores to say."""),
            exercise("cc-003-ex2", "003.2", "The 48×48×1 generator by hand", r"""
Write the 48×48×1 generator yourself as one `nn.Sequential`, at full width, from the table under *The
network, exactly as listed* and the two changes described below it. Check that it draws 48×48 images,
has exactly as many parameters as `RadfordGenerator(channels=1, size=48)`, and the same layers. How
many parameters do the two changes save against the 64×64×3 generator, and where?""", r"""
```python
import torch
from torch import nn
from labkit.models import RadfordGenerator


def up(cin, cout):  # a middle layer: doubles the map
    return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]


by_hand = nn.Sequential(
    nn.ConvTranspose2d(100, 512, 3, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(True),  # 1 -> 3 (was k4: 1 -> 4)
    *up(512, 256), *up(256, 128), *up(128, 64),  # 3 -> 6 -> 12 -> 24
    nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False), nn.Tanh(),  # 24 -> 48, one grey channel (was 3)
)
ours = RadfordGenerator(channels=1, size=48)
count = lambda m: sum(p.numel() for p in m.parameters())
print("output", tuple(by_hand(torch.randn(2, 100, 1, 1)).shape))
print(f"parameters: by hand {count(by_hand):,}, labkit {count(ours):,}, 64x64x3 {count(RadfordGenerator()):,}")
print("same layers:", [type(m).__name__ for m in by_hand] == [type(m).__name__ for m in ours.net])
```

It prints:

```text
output (2, 1, 48, 48)
parameters: by hand 3,216,256, labkit 3,216,256, 64x64x3 3,576,704
same layers: True
```

The two changes save 360,448 parameters: the first layer's 3×3 kernels instead of 4×4 save
$100 \cdot 512 \cdot (16 - 9) = 358{,}400$ weights, and the last layer's one output channel instead of
three saves $64 \cdot 2 \cdot 16 = 2{,}048$. The middle layers, nearly all of the rest, are untouched."""),
            exercise("cc-003-ex3", "003.3", "The explorer on the conditional DCGAN", r"""
The explorer under *Explore the latent space* walks each expression's own generator, so seed 1 is an
unrelated face in each. Point it at the conditional DCGAN instead, in a new cell at the end of the
chapter:

```python
latent_explorer(cgan.render, 100, train.classes)
```

Keep both seeds and switch the expression. What should stay the same, what should change, and why
could it not with the per-expression generators? How does the label reach the conditional generator?""", r"""
With the conditional model the same noise under another label should keep what the noise carries
(face shape, pose, lighting) and change the expression, because the label is the only input that
changed. Separate generators each learn their own use of the noise, so nothing ties seed 1 of one to
seed 1 of another. How cleanly the conditional model separates expression from the rest depends on
its training; a rare expression, seen in a few dozen faces, may change more than the expression.

The label is a one-hot vector appended to the noise, so the first transposed convolution reads 107
numbers:

```python
from labkit.models import RadfordGenerator

G = RadfordGenerator(channels=1, size=48, F=0.25, num_classes=7)
print(f"first layer reads {G.net[0].in_channels} numbers: 100 of noise and a one-hot label of 7")
```

It prints:

```text
first layer reads 107 numbers: 100 of noise and a one-hot label of 7
```"""),
        ),
    ],
)

# ============================================================================================
# 004: MNIST, DCGAN, class-conditional GAN and PCA
# ============================================================================================
C004 = dict(
    cite=[
        ('"GANs for synthetic image generation".*',
         '"GANs for synthetic image generation" {cite:p}`ferianc_manocha`.*'),
        ("The paper trains GANs on handwritten digits and asks",
         "The paper trains GANs {cite:p}`goodfellow2014gan` on handwritten digits, MNIST {cite:p}`lecun1998mnist`, and asks"),
        ("**class-conditional GAN** (CCGAN), told which digit",
         "**class-conditional GAN** (CCGAN) {cite:p}`mirza2014cgan`, told which digit"),
        ("Adam with $\\beta_1 = 0.5$, the paper's learning rate 0.002",
         "Adam with $\\beta_1 = 0.5$ (the DCGAN setting of {cite:t}`radford2016dcgan`), the paper's learning rate 0.002"),
        ("standard one-sided form of Salimans et al. 2016",
         "standard one-sided form of {cite:t}`salimans2016improved`"),
        ("The real **Inception Score** (Salimans et al. 2016) is",
         "The real **Inception Score** {cite:p}`salimans2016improved` is"),
        ("**FID** compares the", "**FID** {cite:p}`heusel2017fid` compares the"),
    ],
    insert=[
        ('lenet_test_acc = lenet_run.history[-1]["test_acc"]', [
            md("cc-004-loop-text", r"""
## A GAN loop by hand

Before labkit trains the paper's DCGAN, here is the whole method in plain PyTorch, written the way
PyTorch's own DCGAN example (`pytorch/examples`, `dcgan/main.py`) writes it: each update under the
objective it climbs. The networks are the paper's, from `labkit.models` (described in the next
section), at a quarter of their channels; the loss is binary cross-entropy on the discriminator's
logit; both networks learn with Adam at the paper's rate 0.002 and $\beta_1 = 0.5$. Two hundred steps
of 32 digits take about ten seconds of one CPU core and already draw strokes like handwriting."""),
            code("cc-004-loop", """
from torch import nn

torch.manual_seed(P.seed)
nz, batch, steps = 100, 32, 200
netG, netD = MnistGenerator(F=0.25).to(device), MnistDiscriminator(F=0.25).to(device)
criterion = nn.BCEWithLogitsLoss()  # D returns a logit; the sigmoid lives in the loss
optimizerD = torch.optim.Adam(netD.parameters(), lr=0.002, betas=(0.5, 0.999))
optimizerG = torch.optim.Adam(netG.parameters(), lr=0.002, betas=(0.5, 0.999))
real_label, fake_label = torch.ones(batch, device=device), torch.zeros(batch, device=device)
loop_start = time.perf_counter()
for step in range(steps):
    real = train.x[torch.randint(len(train), (batch,))].to(device)  # a random batch of real digits
    fake = netG(torch.randn(batch, nz, device=device))
    ############################
    # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
    ############################
    netD.zero_grad()
    errD = criterion(netD(real), real_label) + criterion(netD(fake.detach()), fake_label)
    errD.backward()
    optimizerD.step()
    ############################
    # (2) Update G network: maximize log(D(G(z)))
    ############################
    netG.zero_grad()
    errG = criterion(netD(fake), real_label)  # fake labels are real for the generator's cost
    errG.backward()
    optimizerG.step()
print(f"{steps} steps of {batch} digits in {time.perf_counter() - loop_start:.1f} s; "
      f"last losses: D {errD.item():.2f}, G {errG.item():.2f}")"""),
            code("cc-004-loop-grid", """
netG.eval()  # batch norm from its running statistics
with torch.no_grad():
    plots.show_images(netG(torch.randn(64, nz, device=device)).cpu(), nrow=8, size=4,
                      title=f"the loop by hand: 64 digits after {steps} steps")
plt.show()"""),
            md("cc-004-loop-labkit", r"""
**`labkit.train.gan` is this, plus checkpoints and logging.** Its `GANTrainer.d_step` is block (1)
and its `GANTrainer.g_step` block (2); both are shown, as labkit runs them, under *Training the DCGAN*
below. Around the two updates, `fit` and the trainer add what a run needs:

- **resume**: after every epoch an atomic checkpoint of the weights, the optimisers and every random
  state, in a run folder named after the spec and the data's fingerprint, so an interrupted or
  repeated run continues exactly where it stopped (`fresh=True` starts it again);
- **history**: every step's losses, $D(x)$, $D(G(z))$ and the discriminator's accuracy
  (`trainer.steps`), and per epoch their means and any metric you pass (`trainer.history`);
- **snapshots**: one fixed noise batch drawn after every few epochs, for the progress grids and GIFs;
- **progress**: a bar per run, or one line per epoch with `LABKIT_PROGRESS=text`;
- **a stop on NaN or divergence**: a loss or weight that is not finite or beyond a bound stops the
  run, naming the epoch and step, and keeps the last good checkpoint;
- **conditional labels**: the same two steps for a class-conditional GAN, with labels for both networks;
- **any loss**: a loss object (BCE with one-sided label smoothing, least squares, WGAN-GP with its
  gradient penalty and several critic steps per generator step) in place of the fixed `criterion`;
  and an optional differentiable augmentation of all the discriminator sees (DiffAugment, chapter 002),
  and bfloat16 mixed precision on a GPU or on a CPU that computes bf16 natively."""),
        ]),
        ("### Training the DCGAN", [
            md("cc-004-dstep-text", r"""
The discriminator's step as `GANTrainer` runs it. First its objective, as labkit writes it in the
comment above the method (`inspect.getcomments` reads it from the same file). Then follow `fake`: it
is detached, so this update moves $D$ only, as `fake.detach()` does in block (1) of the loop by hand.
The loss object supplies `d_loss` and `penalty` (0 for BCE, the gradient penalty for WGAN-GP); the
last lines record $D(x)$, $D(G(z))$ and the accuracy of the paper's Figure 2."""),
            code("cc-004-dstep-source", """
import inspect

from labkit.show import source
from labkit.train import GANTrainer

print(inspect.getcomments(GANTrainer.d_step))
source(GANTrainer.d_step)"""),
            md("cc-004-gstep-text", r"""
The generator's step, its objective first again. Like `errG` in block (2), it scores the
discriminator step's own fakes with the updated $D$, without detaching them: one generator forward
per step, and the gradient flows back through $D$ into $G$, but only $G$'s optimiser steps. `frozen(self.D)`
keeps the backward pass from computing a gradient for $D$'s weights, which nothing would use (`errG.backward()`
above computes it, and the next `netD.zero_grad()` throws it away). With BCE, `g_loss` scores the fakes against the label *real*: the
non-saturating loss of `errG` above, which keeps a strong gradient while $D$ still wins easily."""),
            code("cc-004-gstep-source", """
print(inspect.getcomments(GANTrainer.g_step))
source(GANTrainer.g_step)"""),
        ]),
        exercises_at("write_results(P.results_path, results)", "004",
            exercise("cc-004-ex1", "004.1", "Label smoothing at 1.0", r"""
Rerun the chapter with the discriminator's target for real digits at 1 instead of 0.9:

```bash
.venv/bin/papermill notebooks/004_mnist_gans.ipynb smoothing_off.ipynb -p real_target 1.0
```

Compare the rows *plain BCE* and *label smoothing (1.0)* of the table under *Three ways to score a
generator*, and their curves. What do you see, and why?""", r"""
The two rows are identical to the last digit, and so are their curves. With `real_target = 1.0` the
smoothed run *is* the plain BCE run: `ch.gan_spec` builds the same `GANSpec` (same name, loss
arguments, batch and seed), so `fit` finds that run's folder, named after the spec and the data's
fingerprint, and returns the finished run from its checkpoint without training a step. The paper's
comparison (94.8% without smoothing, 97.6% with) is then empty by construction.

One-sided label smoothing acts only through that number: real digits are scored against 0.9, so $D$
cannot push its logits for real digits towards $+\infty$ and stays a useful teacher for $G$. To see its
effect rather than its absence, rerun with another target (`-p real_target 0.8`) and remember that one
run per variant cannot separate a difference of a few points from seed noise (the mixing section
shows how large that noise is)."""),
            exercise("cc-004-ex2", "004.2", "A hinge loss", r"""
labkit's GAN objectives are small objects with four members that `GANTrainer` calls:
`d_loss(real_out, fake_out)`, `g_loss(fake_out)`, `penalty(...)` (an extra discriminator term) and
`prob(out)` (the probability of *real* behind the logged $D(x)$ and the accuracy); read
`source(labkit.losses.BCELoss)`. Write the hinge loss of Lim and Ye (2017), used by SAGAN and BigGAN:
$D$ minimises $\mathbb E[\max(0, 1 - D(x))] + \mathbb E[\max(0, 1 + D(G(z)))]$ and $G$ minimises
$-\mathbb E[D(G(z))]$. What are its two losses for real scores (2, 0.5) and fake scores (−2, 1)? Then
train the chapter's networks with it for an epoch. Can you start that run with `labkit.runs.fit` and a
`GANSpec(..., loss="hinge")`?""", r"""
Only scores on the wrong side of the margin count: $\max(0, 1 - 2) = 0$ and $\max(0, 1 - 0.5) = 0.5$
average to 0.25 for the real scores, $\max(0, 1 - 2) = 0$ and $\max(0, 1 + 1) = 2$ to 1 for the fakes, so
`d_loss` is 1.25; `g_loss` is $-(-2 + 1)/2 = 0.5$.

```python
import torch
import torch.nn.functional as F
from labkit.models import MnistDiscriminator, MnistGenerator
from labkit.train import BatchSource, GANTrainer


class HingeLoss:  # the hinge loss (Lim & Ye 2017; SAGAN, BigGAN) in labkit.losses' protocol
    name = "hinge"

    def d_loss(self, real_out, fake_out):  # push real scores above +1 and fake scores below -1
        return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()

    def g_loss(self, fake_out):  # raise the discriminator's score of the fakes
        return -fake_out.mean()

    def penalty(self, *args):  # no extra term
        return 0.0

    @staticmethod
    def prob(out):  # the decision rule: a positive score means "real"
        return (out > 0).float()


loss = HingeLoss()
real_out, fake_out = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 1.0])
print(f"d_loss {float(loss.d_loss(real_out, fake_out)):.4f}, g_loss {float(loss.g_loss(fake_out)):.4f}")

torch.manual_seed(0)
digits = torch.rand(128, 1, 28, 28) * 2 - 1  # stand-ins for the chapter's train.x
t = GANTrainer(MnistGenerator(F=0.125), MnistDiscriminator(F=0.125), loss=HingeLoss(), lr_g=2e-3, lr_d=2e-3,
               device="cpu")
t.fit(BatchSource(digits, torch.zeros(128, dtype=torch.long), batch_size=32), epochs=1)
print(f"{len(t.steps['loss_d'])} steps, every loss finite:",
      all(torch.isfinite(torch.tensor(t.steps[k])).all() for k in ("loss_d", "loss_g")))
```

It prints:

```text
d_loss 1.2500, g_loss 0.5000
4 steps, every loss finite: True
```

Not through `fit`, as labkit stands: a `GANSpec` names its loss, and `fit` builds it with
`labkit.losses.make_loss`, whose table knows only `"bce"`, `"lsgan"` and `"wgan-gp"` and refuses any
other name with that list. So the solution builds the `GANTrainer` itself, as `fit` does, and hands it
the object; it then has no run folder and no checkpoint. In the chapter, train on `train.x` and
`train.y` at `F=P.F` for `P.gan_epochs` epochs and compare its curves with the DCGAN's."""),
            exercise("cc-004-ex3", "004.3", "The Inception Score by hand", r"""
Write the Inception Score $\exp\big(\mathbb E_x\, \mathrm{KL}(p(y\mid x)\,\|\,p(y))\big)$ (*Three
ways to score a generator*) in NumPy, for an array of class probabilities with one row per image, and
check it against `labkit.metrics.inception_score_numpy`. Score five conditional generators, each asked
for 1,000 digits, 0 to 9 in turn, by their LeNet probabilities: LeNet is sure of every digit, and each
is the digit asked for; sure, but each is one digit off (a 1 when asked for a 0, ...); sure, but only
digits 0 to 4 appear; sure, and always a 0; LeNet finds every digit equally likely to be anything.
Beside each score give the paper's "inception score", LeNet's accuracy on the digit asked for. What
can each of the two not see?""", r"""
```python
import numpy as np
from labkit.metrics import inception_score_numpy


def inception_score(p):  # p: one row of class probabilities per image
    p_y = p.mean(0)  # the marginal: how often each class is drawn
    kl = (p * (np.log(p + 1e-12) - np.log(p_y + 1e-12))).sum(1)
    return float(np.exp(kl.mean()))


asked = np.arange(1000) % 10
sure = np.eye(10)
cases = {
    "sure, the digit asked for": sure[asked],
    "sure, one digit off": sure[(asked + 1) % 10],
    "sure, only digits 0-4": sure[asked % 5],
    "sure, always a 0": sure[np.zeros(1000, dtype=int)],
    "unsure, 0.1 for every digit": np.full((1000, 10), 0.1),
}
for name, p in cases.items():
    accuracy = (p.argmax(1) == asked).mean()
    print(f"{name}: IS by hand {inception_score(p):.2f}, labkit {inception_score_numpy(p):.2f}; "
          f"accuracy {accuracy:.0%}")
```

It prints:

```text
sure, the digit asked for: IS by hand 10.00, labkit 10.00; accuracy 100%
sure, one digit off: IS by hand 10.00, labkit 10.00; accuracy 0%
sure, only digits 0-4: IS by hand 5.00, labkit 5.00; accuracy 50%
sure, always a 0: IS by hand 1.00, labkit 1.00; accuracy 10%
unsure, 0.1 for every digit: IS by hand 1.00, labkit 1.00; accuracy 10%
```

The Inception Score never sees which digit was asked for: a generator that always draws the wrong digit
scores a perfect 10. It rewards sure images spread evenly over the classes, up to the number of
classes: 5 when only five digits appear, 1 for a collapsed or an unsure generator. Accuracy sees
exactly what IS misses. Neither sees the variety *within* a class: a generator that draws one perfect
3 whenever it is asked for a 3 scores 10 and 100%. FID, which compares the spread of the features,
does see that."""),
            exercise("cc-004-ex4", "004.4", "Walking the latent space", r"""
Open the chapter in JupyterLab or Colab and use the explorer under *Walking through the latent space*.
Pick a digit, keep seed A and move seed B; then keep both seeds and change the digit. What changes
along the strip, and what stays? The explorer walks from one noise vector to the other along a great
circle (`labkit.widgets.interpolate`), not along the straight line $(1-t)\,z_0 + t\,z_1$. Compute the
length $\lVert z\rVert$ of the noise at nine steps of both paths between the seeds 1 and 2 of the still
figure, and explain why the straight line would be a worse path for this generator.""", r"""
Along a strip the digit stays (the label is fixed) and the style moves: slant, stroke width, open or
closed loops. Changing the digit with both seeds kept tends to keep the style: the label says *which*
digit, the noise *how* it is written, as far as the CCGAN has learned to separate the two.

```python
import torch
from labkit.widgets import interpolate

z0 = torch.randn(100, generator=torch.Generator().manual_seed(1))  # the still's seed 1 ...
z1 = torch.randn(100, generator=torch.Generator().manual_seed(2))  # ... and seed 2
t = torch.linspace(0, 1, 9).unsqueeze(1)
straight = (1 - t) * z0 + t * z1
print("straight line:", [round(float(r), 1) for r in straight.norm(dim=1)])
print("great circle: ", [round(float(r), 1) for r in interpolate(z0, z1, 9).norm(dim=1)])
```

It prints:

```text
straight line: [9.9, 8.7, 7.6, 6.9, 6.7, 6.9, 7.6, 8.6, 9.9]
great circle:  [9.9, 9.9, 9.9, 9.9, 9.9, 9.9, 9.9, 9.9, 9.9]
```

A standard Gaussian vector in 100 dimensions almost always has a length close to $\sqrt{100} = 10$,
so the generator was trained only on noise from that thin shell. Two independent draws are nearly
orthogonal, and the straight line between them cuts through the inside of the ball: its midpoint has
a length of about $10/\sqrt 2 \approx 7$, noise the generator has never seen, where its digits tend to
be fainter or blurred. The great circle stays on the shell."""),
        ),
    ],
)

CHAPTERS = {
    "000_fer_dcgan_augmentation.ipynb": C000,
    "001_fer_cyclegan_emotion_transfer.ipynb": C001,
    "002_fruits_dcgan_diffaugment.ipynb": C002,
    "003_fer_dcgan_per_expression.ipynb": C003,
    "004_mnist_gans.ipynb": C004,
}


# --- placing it ------------------------------------------------------------------------------
def _text(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def _key(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("course_content")


def _cell(spec: dict) -> dict:
    cell = {"cell_type": spec["cell_type"], "id": spec["key"], "source": spec["text"].splitlines(keepends=True),
            "metadata": {"course_content": spec["key"], "tags": [TAG]}}
    if spec["cell_type"] == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _anchor(cells: list[dict], needle: str, where: str) -> int:
    hits = [i for i, c in enumerate(cells) if _key(c) is None and needle in _text(c)]
    if len(hits) != 1:
        raise SystemExit(f"{where}: the anchor {needle!r} is in {len(hits)} cells, not one; "
                         "update tools/chapter_content.py")
    return hits[0]


def _cite(cells: list[dict], old: str, new: str, where: str) -> None:
    markdown = [c for c in cells if c["cell_type"] == "markdown" and _key(c) is None]
    everything = "\n".join(_text(c) for c in markdown)
    if new in everything:
        return  # already cited
    hits = [c for c in markdown if old in _text(c)]
    if len(hits) != 1:
        keys = re.findall(r"\{cite:[pt]\}`([^`]+)`", new)
        if not hits and all(f"`{k}`" in everything for k in keys):
            print(f"{where}: {old!r} is gone, but {', '.join(keys)} is cited; skipped")
            return
        raise SystemExit(f"{where}: the phrase {old!r} is in {len(hits)} markdown cells, not one; "
                         "update tools/chapter_content.py")
    hits[0]["source"] = _text(hits[0]).replace(old, new, 1).splitlines(keepends=True)


def apply(nb: dict, content: dict, where: str) -> None:
    cells = nb["cells"]
    wanted = {spec["key"] for _, specs in content["insert"] for spec in specs}
    cells[:] = [c for c in cells if _key(c) is None or _key(c) in wanted]  # content this script no longer makes
    for old, new in content["cite"]:
        _cite(cells, old, new, where)
    for needle, specs in content["insert"]:
        pos = _anchor(cells, needle, where)
        for spec in specs:
            found = [i for i, c in enumerate(cells) if _key(c) == spec["key"]]
            if found:
                pos = found[0]
                cells[pos] = _cell(spec)  # replaced where it stands
            else:
                pos += 1
                cells.insert(pos, _cell(spec))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="the folder of chapter notebooks")
    args = parser.parse_args()
    done = []  # every chapter is placed before any is written: a missing anchor leaves all untouched
    for name, content in CHAPTERS.items():
        path = args.notebooks / name
        before = path.read_text(encoding="utf-8")
        nb = json.loads(before)
        apply(nb, content, name)
        done.append((path, before, json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", nb))
    for path, before, after, nb in done:
        if after != before:
            path.write_text(after, encoding="utf-8")
        print(f"{path.name}: {sum(_key(c) is not None for c in nb['cells'])} content cells, "
              f"{'updated' if after != before else 'unchanged'}")


if __name__ == "__main__":
    main()
