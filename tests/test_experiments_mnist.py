import pandas as pd
import pytest
import torch

from labkit.experiments import mnist as ch
from labkit.pca import ClassPCA
from labkit.runs import fit


def test_saturation_absolute_for_accuracy_relative_for_fid():
    t = pd.DataFrame({"acc": [0.5, 0.9, 0.985, 0.99], "fid": [100.0, 30.0, 10.5, 10.0]}, index=[1, 4, 16, 64])
    assert ch.saturation(t, "acc", 0.01) == 16
    assert ch.saturation(t, "fid", 0.10, lower_is_better=True) == 16
    assert ch.saturation(t, "fid", 0.01, lower_is_better=True) == 64


def test_paper_numbers_are_the_papers():
    assert ch.PAPER["generator_params"] == 6_768_129 and ch.PAPER["discriminator_params"] == 307_737
    assert ch.PAPER["ccgan_score"] == 0.948 and ch.PAPER["ccgan_score_smoothing"] == 0.976
    assert len(ch.FULL_GRID) == 27 and {p["B"] for p in ch.FULL_GRID} == {32, 64, 128}


def test_gan_recipe_trains_resumes_and_records_the_lenet_score(mnist_small, tmp_path):
    lenet = fit(ch.lenet_spec(), mnist_small, 1, device="cpu", run_root=tmp_path).model.eval()
    spec = ch.gan_spec(F=0.1, D=1, B=50, lr=2e-3, conditional=True, real_target=0.9)
    metrics = {"lenet_score": ch.lenet_score(lenet)}
    run = fit(spec, mnist_small, 1, metrics=metrics, device="cpu", run_root=tmp_path)
    assert 0 <= run.history[0]["lenet_score"] <= 1 and run.name == "ccgan-F0.1-D1-B50-smooth0.9"
    again = fit(spec, mnist_small, 2, metrics=metrics, device="cpu", run_root=tmp_path)  # continues from epoch 1
    assert again.resumed_from == 1 and again.epoch == 2
    scores = ch.evaluate_generator(again, lenet, mnist_small, per_class=5)
    assert scores["n"] == 50 and scores["lenet"].n == 50 and scores["fid"].n == 50
    assert scores["fid"].features == "LeNet penultimate features (128-d)"


def test_mixing_and_pca_tables(mnist_small, tmp_path):
    lenet = fit(ch.lenet_spec(), mnist_small, 1, device="cpu", run_root=tmp_path).model.eval()
    fake = mnist_small.subset(torch.arange(len(mnist_small)))
    fake.x = -fake.x
    table, models = ch.mixing(mnist_small, fake, mnist_small, [0.5, 1.0], 2, 1, device="cpu", adjust={4: 0.9},
                              run_root=tmp_path)
    assert table["real_fraction"].tolist() == [0.5, 0.5, 1.0, 1.0] and table["adjusted"].all()
    assert set(models) == {(0.5, 0), (0.5, 1), (1.0, 0), (1.0, 1)}
    pca = ClassPCA().fit(mnist_small)
    scores, cms = ch.pca_scores(pca, mnist_small, mnist_small, lenet, [1, 8, 9999], per_class=5)
    assert scores.index.tolist() == [1, 8, pca.max_components]
    assert list(scores.columns) == ["accuracy, reconstruction (paper)", "accuracy, sampling", "FID, reconstruction", "FID, sampling"]
    assert cms[1][0].sum() == 50


def test_lenet_weights_round_trip(tmp_path, mnist_small):
    run = fit(ch.lenet_spec(), mnist_small, 1, device="cpu", run_root=tmp_path)
    path = ch.save_lenet(run, tmp_path / "lenet.pt")
    loaded = ch.load_lenet(path)
    x = mnist_small.x[:8]
    trained = run.model.eval().state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in loaded.state_dict().items())  # the same weights, exactly
    # and the same predictions; not bit for bit, since the trainer keeps its copy channels-last
    assert torch.allclose(loaded(x), run.model(x), atol=1e-4)
    assert torch.equal(loaded(x).argmax(1), run.model(x).argmax(1))


@pytest.mark.parametrize("x, text", [(0.9876, "98.8%"), (None, "—"), (float("nan"), "—")])
def test_percent(x, text):
    assert ch.percent(x) == text
