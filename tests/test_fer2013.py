import os

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import SHARED_DATA
from labkit.data import fer2013
from labkit.data.fer2013 import CLASSES, load_fer2013, read_fer2013


def row(emotion=0, pixels=None, usage="Training"):
    pixels = pixels if pixels is not None else " ".join(["0"] * 2303 + ["255"])
    return f"{emotion},{pixels},{usage}\n"


def write_csv(path, rows, header="emotion,pixels,Usage\n"):
    path.write_text(header + "".join(rows))
    return path


def test_csv_splits_labels_and_values(tmp_path):
    path = write_csv(tmp_path / "fer2013.csv", [row(0), row(1, usage="PublicTest"), row(6, usage="PrivateTest"), row(3)])
    train = load_fer2013(path, "Training", quiet=True)
    assert train.y.tolist() == [0, 3] and train.classes == CLASSES
    assert train.x.shape == (2, 1, 48, 48) and train.x[0, 0, 0, 0] == -1 and train.x[0, 0, 47, 47] == 1
    assert load_fer2013(path, "test", quiet=True).y.tolist() == [1, 6]
    assert len(load_fer2013(path, "all", quiet=True)) == 4


@pytest.mark.parametrize("rows, message", [
    ([row(7)], "row 2: emotion must be 0-6"),
    ([row("x")], "row 2: emotion must be 0-6"),
    ([row(0), row(0, pixels="1 2 3")], "row 3: expected 2304 pixels \\(48x48\\), got 3"),
    ([row(0, pixels=" ".join(["1"] * 2303 + ["a"]))], "row 2: pixels must be whole numbers 0-255; found 'a'"),
    ([row(0, pixels=" ".join(["1"] * 2303 + ["256"]))], "row 2: pixels must be 0-255; found 1..256"),
    ([row(0, usage="Validation")], "row 2: Usage must be Training, PublicTest or PrivateTest; got 'Validation'"),
    ([row(0, usage="")], "row 2: Usage must be"),
    (["0,1 2\n"], "row 2: expected 3 fields"),
    ([], "no rows after the header"),
])
def test_csv_errors_name_the_row(tmp_path, rows, message):
    path = write_csv(tmp_path / "fer2013.csv", rows)
    with pytest.raises(ValueError, match=message) as err:
        read_fer2013(path)
    assert str(path) in str(err.value)


def test_csv_without_usage_is_refused(tmp_path):
    path = write_csv(tmp_path / "train.csv", ["0,1 2\n"], header="emotion,pixels\n")
    with pytest.raises(ValueError, match="header must be 'emotion,pixels,Usage'"):
        read_fer2013(path)


def face(path, size=(48, 48), value=128, mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)
    return path


def folder(tmp_path):
    root = tmp_path / "fer"
    face(root / "train" / "angry" / "Training_1.jpg", value=0)
    face(root / "train" / "happy" / "Training_2.png", value=255)
    face(root / "test" / "happy" / "PublicTest_3.jpg")
    face(root / "test" / "Disgust" / "PrivateTest_4.png")
    face(root / "test" / "neutral" / "noprefix.png", mode="RGB")
    (root / "train" / "angry" / ".DS_Store").write_text("x")
    return root


def test_folder_layout_and_prefix_splits(tmp_path, capsys):
    root = folder(tmp_path)
    train = load_fer2013(root, "Training")
    assert "[labkit data] using FER2013 Training from" in capsys.readouterr().out
    assert train.y.tolist() == [0, 3] and train.x[0].max() == -1 and train.x[1].min() == 1
    assert load_fer2013(root, "PublicTest", quiet=True).y.tolist() == [3]
    assert load_fer2013(root, "PrivateTest", quiet=True).y.tolist() == [1]
    assert load_fer2013(root, "Test", quiet=True).y.tolist() == [6]
    assert load_fer2013(root, "test", quiet=True).y.tolist() == [1, 3, 6]


@pytest.mark.parametrize("make, message", [
    (lambda r: face(r / "train" / "joy" / "a.png"), "unknown emotion folder 'joy'; expected one of angry, disgust"),
    (lambda r: face(r / "train" / "sad" / "a.png", size=(40, 48)), "a.png: expected a 48x48 image, got 40x48"),
    (lambda r: (r / "train" / "sad").mkdir() or (r / "train" / "sad" / "b.png").write_text("not an image"), "b.png: unreadable image"),
    (lambda r: (r / "train" / "sad").mkdir() or (r / "train" / "sad" / "notes.txt").write_text("x"), "notes.txt: not a .jpg or .png image"),
    (lambda r: (r / "train" / "README").write_text("x"), "README: expected only emotion folders"),
])
def test_folder_errors_name_the_file(tmp_path, make, message):
    root = folder(tmp_path)
    make(root)
    with pytest.raises(ValueError, match=message):
        read_fer2013(root)


def test_missing_data_says_what_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist. Download FER2013"):
        read_fer2013(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="expected a train/ and/or test/ folder"):
        read_fer2013(tmp_path / "empty")
    with pytest.raises(ValueError, match="split must be one of"):
        load_fer2013(folder(tmp_path), "validation")


def test_parsed_set_is_cached_and_reparsed_when_the_source_changes(tmp_path, monkeypatch):
    root = folder(tmp_path)
    first = read_fer2013(root)
    assert len(list((tmp_path / "cache").glob("fer2013-*.pt"))) == 1

    def no_parsing(*a, **k):
        raise AssertionError("parsed again although the source did not change")

    monkeypatch.setattr(fer2013, "_read_folder", no_parsing)
    again = read_fer2013(root)
    assert torch.equal(first[0], again[0]) and first[2] == again[2]
    monkeypatch.undo()
    changed = root / "train" / "happy" / "Training_2.png"
    face(changed, value=10)
    os.utime(changed, ns=(1, 1))
    assert read_fer2013(root)[0][1].max() == 10


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "fer2013").exists(), reason="../shared/data/fer2013 is absent")
def test_real_fer2013_counts():
    x, y, usage = read_fer2013(SHARED_DATA / "fer2013")
    assert x.shape[1:] == (48, 48)
    assert {s: usage.count(s) for s in set(usage)} == {"Training": 28_709, "PublicTest": 3_589, "PrivateTest": 3_589}
    assert np.bincount(y.numpy(), minlength=7).tolist() == [4953, 547, 5121, 8989, 6077, 4002, 6198]
    public = load_fer2013(SHARED_DATA / "fer2013", "PublicTest", quiet=True)
    assert public.counts() == [467, 56, 496, 895, 653, 415, 607]
    # paper 001's per-class test table (491 Angry ... 626 Neutral, 3,589 in all) is PrivateTest
    private = load_fer2013(SHARED_DATA / "fer2013", "PrivateTest", quiet=True)
    assert private.counts() == [491, 55, 528, 879, 594, 416, 626]
