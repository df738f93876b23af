import numpy as np
import pytest
import torch
from PIL import Image

import labkit.experiments.radford as ch
from labkit.data.core import ImageSet
from labkit.data.faces import face_files, load_faces
from labkit.data.fer_standin import make_fer_standin
from labkit.models import Paper000CNN
from labkit.runs import fit


def write_images(folder, n, size=(30, 40)):
    folder.mkdir(parents=True)
    for i in range(n):
        arr = np.full((size[1], size[0], 3), 20 * i, dtype=np.uint8)
        arr[:, : size[0] // 2] = 255  # left half white
        Image.fromarray(arr).save(folder / f"{i:06d}.jpg" if i % 2 else folder / f"{i:06d}.png")


def test_celeba_layout_and_plain_folders(tmp_path, capsys):
    write_images(tmp_path / "celeba" / "img_align_celeba", 4)
    faces = load_faces(tmp_path, size=16)
    assert faces.x.shape == (4, 3, 16, 16) and faces.classes == ["face"]
    assert "4 faces from" in capsys.readouterr().out
    # centre crop to a square, then resize: the left column is the white half of the crop
    assert faces.x[0, :, :, 0].min() > 0.9 and faces.x[0, :, :, -1].max() < -0.9
    grey = load_faces(tmp_path, size=8, channels=1, max_images=2, quiet=True)
    assert grey.x.shape == (2, 1, 8, 8)
    write_images(tmp_path / "any" / "nested", 3)
    assert len(face_files(tmp_path / "any")) == 3


def test_face_folder_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_faces(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .jpg or .png"):
        load_faces(tmp_path / "empty")
    write_images(tmp_path / "bad", 2)
    (tmp_path / "bad" / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"broken\.jpg: not a readable image"):
        load_faces(tmp_path / "bad", quiet=True)


def test_sanity_set_pools_fer_faces_without_celeba(capsys):
    P = ch.SPEC.resolve({})
    train = make_fer_standin(70, seed=0, quiet=True)
    pooled = ch.sanity_set(P, train)
    assert len(pooled) == 70 and pooled.classes == ["face"] and pooled.counts() == [70]
    assert "not CelebA" in capsys.readouterr().out


def test_per_expression_trains_one_gan_per_class_and_evaluate_caps_n(tmp_path):
    train = make_fer_standin(210, seed=0, quiet=True)
    kw = dict(F=0.05, batch=16, lr=1e-3)
    run = dict(device="cpu", run_root=tmp_path)
    gans = ch.per_expression(train, ["Happy", "Disgust"], 1, run=run, **kw)
    assert sorted(gans) == [1, 3] and all(not g.conditional for g in gans.values())
    assert gans[3].config["data"] != gans[1].config["data"]
    with pytest.raises(ValueError, match="unknown expression 'Joy'"):
        ch.per_expression(train, ["Joy"], 1, run=run, **kw)
    cond = fit(ch.dcgan_spec("c", conditional=True, num_classes=7, **kw), train, 1, **run)
    assert cond.conditional and cond.fixed_y.tolist() == torch.arange(7).repeat_interleave(8).tolist()
    clf = Paper000CNN(F=0.125).eval()
    table, images = ch.evaluate(gans, [3, 1], clf, train, n_eval=40)
    n_disgust = train.counts()[1]
    assert table.loc["Happy", "N (generated = real)"] == 40 and table.loc["Disgust", "N (generated = real)"] == n_disgust
    assert images[1].shape == (n_disgust, 1, 48, 48)
    other, _ = ch.evaluate(cond, [3, 1], clf, train, n_eval=40)
    both = ch.compare_table(table, other)
    assert list(both.index) == ["Happy", "Disgust"] and both[("sample size", "N")].tolist() == [40, n_disgust]


def test_64x64_rgb_data_gets_the_papers_network(tmp_path):
    data = ImageSet(torch.rand(8, 3, 64, 64) * 2 - 1, torch.zeros(8, dtype=torch.long), ["face"], "rgb")
    t = fit(ch.dcgan_spec("rgb", F=0.05, batch=4, lr=1e-3), data, 1, device="cpu", run_root=tmp_path)
    assert t.G.net[0].kernel_size == (4, 4) and t.generate(2).shape == (2, 3, 64, 64)


def test_profiles():
    quick, paper = ch.SPEC.resolve({}), ch.SPEC.resolve({"profile": "paper"})
    assert (paper.batch, paper.lr, paper.epochs, paper.sanity_epochs, paper.F) == (128, 2e-4, 50, 25, 1.0)
    assert len(paper.expressions) == 7 and len(quick.expressions) == 3
