"""labkit.report: every verdict follows the numbers it speaks of (both ways)."""
from types import SimpleNamespace

import pandas as pd
import pytest

from labkit import report


def test_percent_and_paper_table():
    assert report.percent(0.9876) == "98.8%" and report.percent(None) == "—" and report.percent(float("nan")) == "—"
    t = report.paper_table([("accuracy", "64%", "61.0%")])
    assert t.loc["accuracy", "paper reported"] == "64%" and t.loc["accuracy", "this run"] == "61.0%"


def test_against_baseline_calls_an_effect_only_beyond_the_spread():
    means = pd.DataFrame({"balanced accuracy": [0.40, 0.41, 0.50], "Disgust": [0.1, 0.3, 0.2]},
                         index=["base", "small", "big"])
    spread = pd.DataFrame({"balanced accuracy": [0.02, 0.03, 0.02], "Disgust": [0.0, 0.0, 0.0]}, index=means.index)
    text = report.against_baseline(means, spread, "base", "Disgust", 3, 1200)
    assert "**small**: balanced accuracy +1.0 points against the baseline (spread 3.0); within the seed-to-seed spread" in text
    assert "**big**: balanced accuracy +10.0 points against the baseline (spread 2.0); better by more than the spread" in text
    assert "Best condition for **Disgust**: small (30.0% against 10.0%)" in text and "3 seeds each, 1,200 test faces" in text


def test_translation_verdict_names_the_best_variant():
    table = pd.DataFrame({"recognised as target": [0.40, 0.30, 0.09]}, index=["CycleGAN", "Wasserstein", "(no translation)"])
    text = report.translation_verdict(table, "Neutral", "Happy", 0.89)
    assert text.startswith("The judge recognises **Happy** in 40.0% of **CycleGAN**'s translations, against 9.0% of the "
                           "untouched Neutral faces and 89.0% of real Happy faces")


def _results(gains):
    rows = []
    for seed, g in enumerate(gains):
        rows.append({"seed": seed, "condition": "baseline", "overall": 0.50, "Neutral": 0.3})
        rows.append({"seed": seed, "condition": "+ synthetic neutral", "overall": 0.50 + g, "Neutral": 0.5})
    return pd.DataFrame(rows)


def test_synthetic_effect_against_the_seed_spread():
    assert "That is within the spread" in report.synthetic_effect(_results([0.01, -0.01]), 10, "DCGAN", 2)
    big = report.synthetic_effect(_results([0.10, 0.11]), 10, "DCGAN", 2)
    assert "**+10.5 points**" in big and "That is larger than the spread." in big and "Neutral by +20.0" in big
    assert "one seed: no spread" in report.synthetic_effect(_results([0.10]), 10, "DCGAN", 1)


def _collapse(final, below):
    return pd.DataFrame({"lowest after it": [0.3, 0.8], "at epoch": [5, 9], "epochs below after it": [below, "none"],
                         "final": [final, 0.9]}, index=["Grape", "Apple"])


@pytest.mark.parametrize("final, below, says", [
    (0.9, "5", "the paper's early grape collapse shows here too, and passes"),
    (0.3, "5", "a collapse that lasted"),
    (0.9, "none", "the paper's grape collapse did not happen"),
])
def test_collapse_verdict_follows_the_grapes(final, below, says):
    text = report.collapse_verdict(_collapse(final, below))
    assert says in text and "**Grape**'s (0.30 at epoch 5)" in text


def test_collapse_verdict_when_no_run_reached_the_level():
    table = pd.DataFrame({"lowest after it": [float("nan")], "at epoch": [None], "epochs below after it": ["none"],
                          "final": [0.2]}, index=["Apple"])
    assert "none can be said to collapse or not: train for more epochs" in report.collapse_verdict(table)


def test_fid_ranking_reads_the_smallest_n():
    fid, ns = pd.Series({"Apple": 40.0, "Banana": 60.0}), pd.Series({"Apple": 400, "Banana": 90})
    last = report.fid_ranking(fid, ns, {"Apple": 129, "Banana": 270})
    assert "**Apple < Banana**" in last and "**Banana**, ranks 2 of 2 here: last" in last
    first = report.fid_ranking(pd.Series({"Apple": 40.0, "Banana": 10.0}), ns, {"Apple": 129, "Banana": 270})
    assert "ranks 1 of 2 here: so its small N" in first and "(paper reported, Inception-v3: Apple < Banana)" in first


def test_fid_against_n_quotes_both_ends():
    curve = pd.DataFrame({"GAN": [47.4, 38.0], "real vs real": [6.8, 0.4]}, index=[25, 421])
    assert report.fid_against_n(curve).startswith("From N = 25 to N = 421 the generator's FID moves from 47.4 to 38.0, "
                                                  "and real photos against real photos from 6.8 to 0.4")


def test_diffaugment_verdict_on_a_growing_and_a_shrinking_gap():
    grows = pd.DataFrame({"DiffAugment": [8.8, 6.2, 2.4], "no augmentation": [39.0, 47.7, 50.7]}, index=["100%", "25%", "10%"])
    text = report.diffaugment_verdict(grows)
    assert "lower FID at 3 of 3 shares (100%, 25%, 10%)" in text and "It grows as the data shrinks" in text
    shrinks = pd.DataFrame({"DiffAugment": [8.0, 30.0], "no augmentation": [20.0, 25.0]}, index=["100%", "10%"])
    text = report.diffaugment_verdict(shrinks)
    assert "at 1 of 2 shares (100%)" in text and "+12.0 at 100%, -5.0 at 10%" in text and "does not grow" in text


def _scores(rec, fid):
    return pd.DataFrame({"recognised as intended": rec, "FID": fid, "N (generated = real)": [200, 40]},
                        index=["Happy", "Disgust"])


@pytest.mark.parametrize("cond, real, says", [
    ([0.55, 0.60], {"Happy": 0.9, "Disgust": 0.5}, "**support**"),
    ([0.55, 0.25], {"Happy": 0.9, "Disgust": 0.5}, "**do not support**"),
    ([0.55, 0.60], {"Happy": 0.9, "Disgust": 0.1}, "too few real Disgust faces"),
])
def test_data_size_verdict(cond, real, says):
    per, con = _scores([0.50, 0.20], [80.0, 200.0]), _scores(cond, [70.0, 150.0])
    text = report.data_size_verdict(per, con, {"Happy": 7215, "Disgust": 436}, real)
    assert says in text
    assert "**Happy** (7,215 training faces, N = 200): the judge recognises the conditional DCGAN's faces 5 points more" in text


def test_mnist_summary_follows_its_numbers():
    score = lambda v, n=1000: SimpleNamespace(value=v, n=n, accuracy=v)  # noqa: E731
    best = {"lenet": score(0.95), "is": score(8.1), "is_real": score(9.2), "fid": score(12.3)}
    pca = pd.DataFrame({"accuracy, reconstruction (paper)": [0.97, 0.99], "FID, sampling": [80.0, 20.0]}, index=[1, 64])
    common = dict(lenet_test_acc=0.98, ccgan_acc={"plain BCE": 0.9, "smooth": 0.95, "virtual batch norm": 0.93},
                  best_name="smooth", best_eval=best, smooth_key="smooth", low=0.1, pca_table=pca, sat_fid=64)
    text = report.mnist_summary(mix_mean=pd.Series({0.1: 0.90, 1.0: 0.97}), **common)
    assert "As in the paper, more real data is better." in text and "2.0 points above the best CCGAN" in text
    assert "That contradicts the paper" in text
    text = report.mnist_summary(mix_mean=pd.Series({0.1: 0.90, 0.5: 0.98, 1.0: 0.97}), **common)
    assert "Unlike the paper, the all-real set is not the best here." in text
    pca.iloc[0, 0] = 0.85
    assert "below the best CCGAN (paper: about 10 points below), as the paper found" in report.mnist_summary(
        mix_mean=pd.Series({0.1: 0.90, 1.0: 0.97}), **common)


def test_with_directions_marks_lower_is_better_measures_for_display_only():
    import pandas as pd

    from labkit.report import with_directions

    flat = pd.DataFrame({"FID": [1.0], "IS": [2.0], "FID to real target": [3.0], "N": [5]})
    shown = with_directions(flat)
    assert list(shown.columns) == ["FID ↓", "IS", "FID to real target ↓", "N"]
    assert list(flat.columns) == ["FID", "IS", "FID to real target", "N"]  # the computed table is untouched
    two = pd.concat({"per expression": flat[["FID", "IS"]], "conditional": flat[["FID", "IS"]]}, axis=1)
    assert list(with_directions(two).columns) == [("per expression", "FID ↓"), ("per expression", "IS"),
                                                  ("conditional", "FID ↓"), ("conditional", "IS")]


def test_beside_paper_scores_quotes_the_paper_per_fruit():
    import pandas as pd

    from labkit.experiments.fruits import PAPER
    from labkit.report import beside_paper_scores

    table = pd.DataFrame({"fruit": ["Apple", "Kiwi"], "features": ["fruit classifier"] * 2, "FID": [10.0, 20.0]}
                         ).set_index(["fruit", "features"])
    shown = beside_paper_scores(table, PAPER)
    assert shown["paper IS"].tolist() == ["2.475 ± 0.112", "—"] and shown["paper FID"].tolist() == [129, "—"]
    assert "paper IS" not in table.columns


def test_steadier_reads_the_last_epoch_and_the_largest_fall():
    from labkit.report import steadier

    wandering = steadier({"base": [0.1, 0.9, 0.8, 0.95], "avg": [0.1, 0.9, 0.92, 0.94]}, "base", "avg")
    assert wandering == ("After its last epoch **avg** scores 94.0%, lower than **base** (95.0%). The largest fall "
                         "from one epoch to the next: 0.0 points for avg, 10.0 points for base.")
    climbing = steadier({"base": [0.1, 0.5, 0.85], "avg": [0.1, 0.5, 0.88]}, "base", "avg")
    assert "scores 88.0%, higher than **base** (85.0%)" in climbing
    assert "neither fell by more than a point, both were still climbing" in climbing
    # a fall of under a point still counts as climbing, and the sentence does not claim no fall at all
    small = steadier({"base": [0.1, 0.5, 0.905, 0.9], "avg": [0.1, 0.5, 0.88]}, "base", "avg")
    assert "0.5 points for base: neither fell by more than a point" in small
