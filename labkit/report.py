"""What the chapters show in words and tables, built from results in one visible place.

The functions that compute results return numbers and plain tables; this module turns them
into what a reader sees: the closing "paper reported | this run" table, percentages, and the
sentences whose wording depends on a result (a verdict is computed from the numbers it speaks
of, by a tested function, never typed).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def paper_table(rows: Sequence[tuple[str, Any, Any]]):
    """The closing "paper reported | this run" table."""
    import pandas as pd

    return pd.DataFrame([{"quantity": q, "paper reported": p, "this run": r} for q, p, r in rows]).set_index("quantity")


# Measures where lower is better; a displayed table marks them with an arrow (computing code names
# every measure plainly, so code reads table["FID"] whatever the page shows).
LOWER_IS_BETTER = ("FID", "FID to real target")


def with_directions(table):
    """A copy of ``table`` for display, each lower-is-better measure (``LOWER_IS_BETTER``) named
    with "↓"; flat or two-level columns."""
    import pandas as pd

    def name(c):
        return f"{c} ↓" if c in LOWER_IS_BETTER else c

    out = table.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples([tuple(name(x) for x in col) for col in out.columns])
    else:
        out.columns = [name(c) for c in out.columns]
    return out


def beside_paper_scores(table, paper: dict):
    """A fruit score table (index: fruit, features) for display, with the paper's IS and FID for
    each fruit beside ours (``paper``: fruit → (IS mean, IS std, FID), quoted; "—" where it gave none)."""
    out = table.copy()
    fruits = out.index.get_level_values("fruit")
    out["paper IS"] = [f"{paper[f][0]} ± {paper[f][1]}" if f in paper else "—" for f in fruits]
    out["paper FID"] = [paper[f][2] if f in paper else "—" for f in fruits]
    return out


def percent(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.1f}%"


def points(x: float) -> str:
    return f"{abs(100 * x):.1f} points"


# --- paper 000 -------------------------------------------------------------------------------
def against_baseline(means, spread, base: str, weakest: str, seeds: int, n_test: int) -> str:
    """Each condition's balanced accuracy against ``base``: an effect only when the difference
    exceeds the larger seed-to-seed spread of the two; and the best condition for ``weakest``.
    ``means``/``spread``: tables (condition × measure) of means and standard deviations."""
    m, s = means["balanced accuracy"], spread["balanced accuracy"].fillna(0)
    lines = []
    for cond in means.index.drop(base):
        diff, noise = m[cond] - m[base], max(s[cond], s[base])
        verdict = ("within the seed-to-seed spread, so no measurable effect" if abs(diff) <= noise
                   else f"{'better' if diff > 0 else 'worse'} by more than the spread (with {seeds} seeds, a hint, not proof)")
        lines.append(f"* **{cond}**: balanced accuracy {100 * diff:+.1f} points against the baseline "
                     f"(spread {100 * noise:.1f}); {verdict}.")
    lines.append(f"* Best condition for **{weakest}**: {means[weakest].idxmax()} "
                 f"({100 * means[weakest].max():.1f}% against {100 * means[weakest][base]:.1f}%).")
    return f"What this run measured ({seeds} seeds each, {n_test:,} test faces):\n\n" + "\n".join(lines)


# --- paper 001 -------------------------------------------------------------------------------
def translation_verdict(table, source: str, target: str, real_target_rate: float) -> str:
    """Which variant's translations the judge calls ``target`` most often, against the untouched
    source faces (row "(no translation)") and real target faces."""
    recognised = table["recognised as target"]
    best = recognised.drop(index="(no translation)").idxmax()
    return (f"The judge recognises **{target}** in {percent(recognised[best])} of **{best}**'s translations, against "
            f"{percent(recognised['(no translation)'])} of the untouched {source} faces and {percent(real_target_rate)} "
            f"of real {target} faces. One seed per variant: differences of a few points are noise.")


def synthetic_effect(results, n_added: int, source_gan: str, seeds: int, base: str = "baseline",
                     added: str = "+ synthetic neutral") -> str:
    """The change in overall and Neutral accuracy from adding synthetic faces, against the
    largest seed-to-seed spread: an effect only when larger. ``results``: one row per seed and
    condition with ``overall`` and ``Neutral`` accuracies."""
    mean = results.groupby("condition")[["overall", "Neutral"]].mean()
    gain = mean.loc[added, "overall"] - mean.loc[base, "overall"]
    neutral = 100 * (mean.loc[added, "Neutral"] - mean.loc[base, "Neutral"])
    head = f"Adding {n_added} kept {source_gan} faces changes the overall accuracy by **{100 * gain:+.1f} points**"
    if seeds < 2:
        return f"{head} and Neutral by {neutral:+.1f} (one seed: no spread to tell an effect from noise; run more `seeds`)."
    spread = results.groupby("condition")["overall"].std().max()
    return (f"{head} (mean of {seeds} seeds; the seed-to-seed spread is up to {100 * spread:.1f} points), and Neutral by "
            f"{neutral:+.1f}. " + ("That is within the spread: no measurable effect at this scale." if abs(gain) <= spread
                                    else "That is larger than the spread."))


# --- paper 002 -------------------------------------------------------------------------------
def collapse_verdict(collapse, threshold: float = 0.5) -> str:
    """Mode collapse read from ``collapse`` (one row per fruit: "lowest after it", "at epoch",
    "epochs below after it" as text, "final"), grapes singled out as the paper does."""
    late = collapse["lowest after it"].astype(float).dropna()
    level = "half" if threshold == 0.5 else f"{threshold:g} of"
    msg = (f"Every generator starts with near-identical samples (an untrained generator), so only a fall *after* the "
           f"samples first reached {level} the real diversity counts as collapse. ")
    if late.empty:
        return msg + ("No generator has an epoch after reaching that level in this run, so none can be said to collapse "
                      "or not: train for more epochs.")
    worst = late.idxmin()
    msg += f"The lowest such value is **{worst}**'s ({late[worst]:.2f} at epoch {collapse.loc[worst, 'at epoch']}). "
    if "Grape" in collapse.index:
        g = collapse.loc["Grape"]
        msg += (f"Grapes fell below that level after reaching it in epochs: {g['epochs below after it']}; "
                + ("they end above it, so the paper's early grape collapse shows here too, and passes."
                   if g["epochs below after it"] != "none" and g["final"] >= threshold
                   else "they end below it: a collapse that lasted." if g["final"] < threshold
                   else "so in this run the paper's grape collapse did not happen."))
    return msg


def fid_ranking(fid, ns, paper_fid: dict) -> str:
    """Fruits ranked by FID, beside the paper's ranking, and whether the smallest sample size
    could explain the last place. ``fid``, ``ns``: per fruit; ``paper_fid``: fruit → FID."""
    ours = list(fid.sort_values().index)
    paper = sorted([f for f in paper_fid if f in fid.index], key=lambda f: paper_fid[f])
    smallest = ns.idxmin()
    rank = ours.index(smallest)
    return "\n".join([
        f"* By FID on fruit-classifier features, best to worst: **{' < '.join(ours)}** "
        f"(paper reported, Inception-v3: {' < '.join(paper)}).",
        f"* The sample counts differ per fruit (N = {', '.join(f'{f} {n}' for f, n in ns.items())}), because each fruit "
        f"has its own number of held-out photos, and FID falls as N grows (next section). The fruit with the smallest N, "
        f"**{smallest}**, ranks {rank + 1} of {len(ours)} here: "
        + ("last, as the paper found for its bananas, and the sample size alone could explain it."
           if rank == len(ours) - 1 else
           "so its small N, which pushes its FID up, does not decide this ranking; each fruit is also scored against its "
           "own real photos, so FIDs of different fruits measure different things.")])


def fid_against_n(curve) -> str:
    """How the generator's and the real-vs-real FID move from the smallest to the largest N."""
    first, last = curve.index[0], curve.index[-1]
    return (f"From N = {first} to N = {last} the generator's FID moves from {curve.loc[first, 'GAN']:.1f} to "
            f"{curve.loc[last, 'GAN']:.1f}, and real photos against real photos from {curve.loc[first, 'real vs real']:.1f} "
            f"to {curve.loc[last, 'real vs real']:.1f}. A score means something only beside its N, and two generators "
            f"compare only at the same N; 10,000 samples, as the paper recommends in hindsight, make the bias small.")


def diffaugment_verdict(piv) -> str:
    """Where DiffAugment gives the lower FID (``piv``: shares × {"DiffAugment", "no augmentation"},
    largest share first) and whether its advantage grows as the data shrinks."""
    better = [s for s in piv.index if piv.loc[s, "DiffAugment"] < piv.loc[s, "no augmentation"]]
    gap = piv["no augmentation"] - piv["DiffAugment"]
    return (f"DiffAugment gives the lower FID at {len(better)} of {len(piv)} shares ({', '.join(better) or 'none'}); the gap "
            f"(FID without minus with) is " + ", ".join(f"{gap[s]:+.1f} at {s}" for s in piv.index) + ". "
            + ("It grows as the data shrinks, as Zhao et al. found." if gap.iloc[-1] > gap.iloc[0] else
               "It does not grow as the data shrinks in this run.")
            + " One seed per cell: read small differences as noise.")


# --- paper 003 -------------------------------------------------------------------------------
def data_size_verdict(per_scores, cond_scores, counts: dict, real_rates: dict) -> str:
    """The test of paper 003's "too few samples per class": per expression (``counts``: name →
    training faces; ``real_rates``: name → the judge's accuracy on real test faces), how much
    more often the judge recognises the conditional DCGAN's faces than the per-expression
    DCGAN's; the explanation is supported when the conditional model helps the rarest expression
    by more than 10 points and more than the most common one."""
    rare, common = min(counts, key=counts.get), max(counts, key=counts.get)
    lines, gain = [], {}
    for name in (common, rare):
        gain[name] = cond_scores.loc[name, "recognised as intended"] - per_scores.loc[name, "recognised as intended"]
        d_fid = per_scores.loc[name, "FID"] - cond_scores.loc[name, "FID"]
        lines.append(f"* **{name}** ({counts[name]:,} training faces, N = {int(per_scores.loc[name, 'N (generated = real)'])}): "
                     f"the judge recognises the conditional DCGAN's faces {abs(100 * gain[name]):.0f} points "
                     f"{'more' if gain[name] > 0 else 'less'} often than those of {name}'s own DCGAN (it recognises "
                     f"{percent(real_rates[name])} of real {name} test faces); "
                     f"the conditional FID is {'lower' if d_fid > 0 else 'higher'} by {abs(d_fid):.0f}.")
    if real_rates[rare] < 0.3:
        lines.append(f"\nThe judge recognises too few real {rare} faces for recognition to say anything about that expression.")
    elif gain[rare] > 0.1 and gain[rare] > gain[common]:
        lines.append("\nBy recognition these numbers **support** the paper's data-size explanation: learning from every "
                     "face helps, and helps the rarest expression most.")
    else:
        lines.append("\nBy recognition these numbers **do not support** the data-size explanation at this scale: the "
                     "conditional model's advantage is not largest on the rarest expression.")
    lines.append("FID at a few dozen faces is dominated by estimation noise (compare the N column), so we do not base the "
                 "verdict on it. The paper's other explanation, grey images, is not tested by FER2013 alone: only the "
                 "sanity check on CelebA (with `celeba_dir`) brings colour in, and it changes the number of faces at the "
                 "same time.")
    return "\n".join(lines)


# --- paper 004 -------------------------------------------------------------------------------
def steadier(scores: dict, base: str, recipe: str) -> str:
    """How ``recipe``'s per-epoch scores (name → list, higher is better) compare with ``base``'s:
    the score after the last epoch, and the largest fall from one epoch to the next, in a sentence
    or two that follow the numbers."""
    def fall(s):
        return max([0.0] + [a - b for a, b in zip(s[:-1], s[1:])])

    b, r = list(scores[base]), list(scores[recipe])
    end = "higher than" if r[-1] > b[-1] else "the same as" if r[-1] == b[-1] else "lower than"
    text = (f"After its last epoch **{recipe}** scores {percent(r[-1])}, {end} **{base}** ({percent(b[-1])}). "
            f"The largest fall from one epoch to the next: {points(fall(r))} for {recipe}, "
            f"{points(fall(b))} for {base}")
    if max(fall(r), fall(b)) <= 0.01:
        return text + (": neither fell by more than a point, both were still climbing, so the average had little "
                       "to smooth yet. Train for more epochs to see what it steadies (benchmarks/bench_mnist_ccgan.py "
                       "does, on full MNIST).")
    return text + "."


def mnist_summary(*, lenet_test_acc: float, ccgan_acc: dict, best_name: str, best_eval: dict, smooth_key: str,
                  mix_mean, low: float, pca_table, sat_fid: int) -> str:
    """What chapter 004's numbers say: the judge, conditioning, accuracy against IS and FID,
    synthetic training data and PCA, each sentence following the numbers it quotes.
    ``ccgan_acc``: variant → LeNet score; ``best_eval``: the best variant's scores ("lenet",
    "is", "is_real", "fid"); ``mix_mean``: share of real digits → mean test accuracy."""
    pca1 = pca_table["accuracy, reconstruction (paper)"].iloc[0]
    gap = pca1 - best_eval["lenet"].accuracy
    fid1, fid_best_pca = pca_table["FID, sampling"].iloc[0], pca_table["FID, sampling"].min()
    lines = [
        f"- **The judge.** LeNet reaches {percent(lenet_test_acc)} on held-out digits, so a generated digit it misreads "
        "is most likely a bad digit, not a bad judge.",
        f"- **Conditioning.** The best CCGAN variant here ({best_name}) draws the digit it is asked for "
        f"{percent(best_eval['lenet'].accuracy)} of the time; chance is 10%. Plain BCE scored {percent(ccgan_acc['plain BCE'])}, "
        f"label smoothing {percent(ccgan_acc[smooth_key])}, virtual batch norm {percent(ccgan_acc['virtual batch norm'])}"
        + "".join(f", {k} {percent(v)}" for k, v in ccgan_acc.items()
                  if k not in ("plain BCE", smooth_key, "virtual batch norm")) + ". "
        "Each is one training run, as in the paper; the mixing experiment shows how far one number moves between seeds, "
        "so read small differences as ties.",
        f"- **Accuracy is not an Inception Score.** Real digits have an Inception Score of {best_eval['is_real'].value:.2f} "
        f"under LeNet, the best CCGAN {best_eval['is'].value:.2f}, and its FID to real digits is {best_eval['fid'].value:.1f} "
        f"(LeNet features, N = {best_eval['fid'].n:,}). Accuracy asks only whether each digit is recognisable; IS also "
        "rewards covering all classes, FID also the right variety of styles.",
        f"- **Synthetic training data.** With {int(low * 100)}% real digits LeNet scores {percent(mix_mean.loc[low])} on the "
        f"test set, against {percent(mix_mean.max())} for the best mix ({percent(mix_mean.idxmax())} real). "
        + ("As in the paper, more real data is better." if mix_mean.idxmax() == mix_mean.index.max()
           else "Unlike the paper, the all-real set is not the best here."),
        f"- **PCA.** One principal component plus the class mean gives reconstructions that LeNet recognises "
        f"{percent(pca1)} of the time, {points(gap)} {'above' if gap > 0 else 'below'} the best CCGAN "
        f"(paper: about 10 points below)" + (
            ". That contradicts the paper, and the reason is instructive: one component barely moves away from the "
            "class's average digit, the easiest digit of all to recognise. Accuracy cannot see that these digits all "
            "look alike" if gap > 0 else ", as the paper found") +
        f". FID can: new PCA samples start at {fid1:.0f} with one component and reach {fid_best_pca:.0f} at best, within "
        f"10% of that by {sat_fid} components (paper: accuracy saturates near 64); the best CCGAN's FID is "
        f"{best_eval['fid'].value:.0f}.",
    ]
    return "### What the numbers say\n\n" + "\n".join(lines)


# --- provenance: what every closing table says about the run behind it -------------------------

def _commit() -> str:
    """The course's git commit (short), and whether files differed from it; "unknown" outside a
    git checkout (a pip-installed labkit, Colab)."""
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0:
            return "unknown (not a git checkout)"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + (" with local changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (git not found)"


def minutes(seconds: float) -> str:
    """``seconds`` as "3 min 05 s" (or "unknown")."""
    if seconds != seconds:
        return "unknown"
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _sources(sets) -> str:
    """The data sets' own descriptions (name, split, count), one after another."""
    return "; ".join(s.source for s in sets if s.source)


def data_used(P, *sets) -> str:
    """One sentence on the data behind a chapter's numbers: each set's own description (name,
    split, count), and, on embedded data, that it is not the paper's dataset."""
    line = _sources(sets)
    if P.get("data_dir") is None:
        return (f"{line}. This is the chapter's embedded default, not the paper's full dataset: run it with "
                f"`data_dir` (or build the book with `python course.py build --data DIR`) for the real one.")
    return line + "."


def provenance(P, *sets, seconds: float, device: str | None = None):
    """The run behind a chapter's numbers, as a two-column table: the data (name, split, count),
    the profile and how epochs were sized, the device, the wall time (``seconds``), torch and the
    commit."""
    import pandas as pd
    import torch

    from labkit.runtime import describe, pick_device

    profile = P.profile
    if P.get("epoch_share"):
        profile += f"; each epoch draws {P.epoch_share:.1%} of a run's images (epoch_images={P.epoch_images:,})"
    rows = [("data", _sources(sets)), ("profile", profile),
            ("seed", P.get("seed", 0)),
            ("device", device or describe(pick_device(P.get("device", "auto"))).removeprefix("device: ")),
            ("wall time", minutes(seconds)), ("torch", torch.__version__),
            ("commit", _commit())]
    return pd.DataFrame(rows, columns=["", "this run"]).set_index("")


def _glue(name: str, value) -> None:
    """Keep ``value`` under ``name`` for other pages of the book (myst-nb's ``glue``, not shown
    here); without myst-nb (Colab, a plain Jupyter), nothing to keep."""
    try:
        from myst_nb import glue
    except ImportError:
        return
    glue(name, value, display=False)


def closing(table, P, *sets) -> None:
    """Show a chapter's closing "paper reported | this run" ``table`` and keep it, with
    :func:`data_used` of ``P`` and the data ``sets``, for the book: its results page gathers every
    chapter's table (myst-nb ``glue`` keys ``paper_vs_run``, ``data_used``), and the top of each
    page says which data it used."""
    import pandas as pd
    from IPython.display import Markdown, display

    with pd.option_context("display.max_colwidth", None):  # whole sentences, not "..." after 50 characters
        _glue("paper_vs_run", table)
        _glue("data_used", Markdown(data_used(P, *sets)))
        display(table)


def finished(started: float, P, *sets, device: str | None = None) -> None:
    """The chapter's last cell: the run behind the page (:func:`provenance`, its wall time from
    ``started``, a ``time.perf_counter()`` reading at the chapter's start), shown and kept for the
    results page (glue key ``provenance``)."""
    import time

    import pandas as pd
    from IPython.display import display

    prov = provenance(P, *sets, seconds=time.perf_counter() - started, device=device)
    with pd.option_context("display.max_colwidth", None):
        _glue("provenance", prov)
        display(prov)
