"""Malformed input as a new user meets it: every loader error names the file (and the row where
there is one) and says what was expected; nothing is silently dropped, misread or overwritten;
a broken or unwritable dataset cache never stops a load."""
import gzip
import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from labkit.data.fer2013 import read_fer2013
from labkit.data.fruits360 import load_fruits360
from labkit.data.mnist import load_mnist
from test_data import fake_mnist
from test_fer2013 import face, folder, row, write_csv

HEADER = "emotion,pixels,Usage\n"
ROWS = [row(0), row(3, usage="PublicTest"), row(6, usage="PrivateTest")]


def csv_bytes(rows=ROWS, header=HEADER):
    return (header + "".join(rows)).encode()


def refused(path, *fragments, call=read_fer2013):
    """The ValueError ``call(path)`` raises: it names the file and holds every fragment."""
    with pytest.raises(ValueError) as err:
        call(path)
    message = str(err.value)
    assert str(path) in message and all(f in message for f in fragments), message
    return message


# --- the FER2013 CSV -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fer2013.csv.gz", "fer2013.csv"])
def test_gzip_compressed_csv_is_read_whatever_its_name(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(csv_bytes()))
    x, y, usage = read_fer2013(path)
    assert y.tolist() == [0, 3, 6] and usage == ["Training", "PublicTest", "PrivateTest"] and x.shape == (3, 48, 48)


def test_truncated_gzip_csv_names_the_file(tmp_path):
    path = tmp_path / "fer2013.csv.gz"
    data = gzip.compress(csv_bytes())
    path.write_bytes(data[: len(data) // 2])
    refused(path, "not a complete gzip-compressed CSV file", "EOFError")


def test_zip_archive_says_unzip(tmp_path):
    import zipfile

    path = tmp_path / "fer2013.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("fer2013.csv", csv_bytes())
    refused(path, "a zip archive", "unzip it")


def test_latin1_byte_names_file_and_row(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_bytes(csv_bytes([row(0), row(1, usage="Training é")]).replace("é".encode(), "é".encode("latin-1")))
    refused(path, "row 3", "byte 0xe9 is not UTF-8")


def test_byte_order_mark_and_blank_rows_are_accepted(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_bytes() + b"\n,,\n\n")  # Excel's CSV UTF-8; empty rows at the end
    assert read_fer2013(path)[1].tolist() == [0, 3, 6]
    path.write_bytes(csv_bytes().replace(b"\n", b"\r\n") + b"\r\n")  # Windows line ends
    assert read_fer2013(path)[1].tolist() == [0, 3, 6]


@pytest.mark.parametrize("bad", ["1_2", "\u0663", "+5", "-1", "1.0"])
def test_pixels_that_int_would_take_are_refused_with_file_and_row(tmp_path, bad):
    pixels = " ".join(["7"] * 2303 + [bad])
    path = write_csv(tmp_path / "fer2013.csv", [row(0), row(0, pixels=pixels)])
    refused(path, "row 3", "pixels must be whole numbers 0-255", repr(bad))


def test_a_same_size_csv_edit_with_its_time_put_back_is_read_again(tmp_path):
    path = write_csv(tmp_path / "fer2013.csv", ROWS)
    assert read_fer2013(path)[1].tolist() == [0, 3, 6]
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b"6,", b"5,", 1))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert read_fer2013(path)[1].tolist() == [0, 3, 5]


# --- MNIST ------------------------------------------------------------------------------------

def test_truncated_and_html_mnist_gz_name_the_file(tmp_path):
    raw = fake_mnist(tmp_path)
    images = raw / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:-30])
    load = lambda p: load_mnist(tmp_path, "train", download=False, quiet=True)  # noqa: E731
    refused(images, "not a complete gzip file; download it again", "EOFError", call=load)
    images.write_bytes(b"<!DOCTYPE html><html><body>Service unavailable</body></html>")
    refused(images, "not a complete gzip file", "BadGzipFile", call=load)
    images.write_bytes(b"\x00\x00\x08\x03\x00\x00")  # a header cut inside its sizes
    images.write_bytes(gzip.compress(images.read_bytes()))
    refused(images, "too short for the 3 sizes", call=load)


# --- the dataset cache ----------------------------------------------------------------------------

def cache_entry(tmp_path):
    (entry,) = (tmp_path / "cache").glob("fer2013-*.pt")
    return entry


def reparsed(path, entry, expected):
    """Load ``path`` with a bad cache ``entry``: one warning naming it, the data parsed again and
    the entry rewritten (readable once more)."""
    with pytest.warns(UserWarning) as caught:
        assert read_fer2013(path)[1].tolist() == expected
    messages = [str(w.message) for w in caught if "cache" in str(w.message)]
    assert len(messages) == 1 and str(entry) in messages[0] and "parsing the source again" in messages[0], messages
    assert torch.load(entry, weights_only=True)["y"].tolist() == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_fer2013(path)[1].tolist() == expected


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "not tensors"])
def test_corrupt_cache_entry_is_reported_and_parsed_again(tmp_path, damage):
    path = write_csv(tmp_path / "fer2013.csv", ROWS)
    read_fer2013(path)
    entry = cache_entry(tmp_path)
    data = entry.read_bytes()
    if damage == "not tensors":
        torch.save([1, 2, 3], entry)
    else:
        entry.write_bytes({"truncate": data[: len(data) // 2], "empty": b"", "garbage": os.urandom(500)}[damage])
    reparsed(path, entry, [0, 3, 6])


class _Payload:
    """Unpickled, this would create the sentinel file."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_malicious_cache_entry_is_refused_unrun_reported_and_parsed_again(tmp_path, how):
    path = write_csv(tmp_path / "fer2013.csv", ROWS)
    read_fer2013(path)
    entry, sentinel = cache_entry(tmp_path), tmp_path / "pwned"
    if how == "pickle":
        entry.write_bytes(pickle.dumps({"x": _Payload(sentinel)}))
    else:
        torch.save({"x": _Payload(sentinel)}, entry)
    assert not sentinel.exists()
    reparsed(path, entry, [0, 3, 6])
    assert not sentinel.exists()


def unwritable_warnings(caught):
    return [str(w.message) for w in caught if "cannot write the dataset cache" in str(w.message)]


def test_cache_under_a_regular_file_loads_without_caching_and_says_so_once(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("LABKIT_CACHE", str(blocker / "labkit"))
    path = write_csv(tmp_path / "fer2013.csv", ROWS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read_fer2013(path)[1].tolist() == [0, 3, 6]
        assert read_fer2013(folder(tmp_path))[1].tolist() == [0, 3, 1, 3, 6]
    (message,) = unwritable_warnings(caught)
    assert str(blocker / "labkit") in message and "loading without caching" in message


def test_permission_denied_on_the_cache_loads_without_caching(tmp_path, monkeypatch):
    import tempfile

    def denied(*a, dir=None, **k):
        raise PermissionError(13, "Permission denied", f"{dir}/.tmp-x.pt")

    monkeypatch.setattr(tempfile, "mkstemp", denied)  # as for a read-only or another user's folder
    path = write_csv(tmp_path / "fer2013.csv", ROWS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            assert read_fer2013(path)[1].tolist() == [0, 3, 6]
    (message,) = unwritable_warnings(caught)
    assert "Permission denied" in message and str(tmp_path / "cache") in message


# --- image folders ----------------------------------------------------------------------------

def case_sensitive(tmp_path):
    (tmp_path / "probe").mkdir()
    return not (tmp_path / "PROBE").exists()


def test_empty_emotion_folder_is_named_in_a_warning(tmp_path):
    root = folder(tmp_path)
    (root / "train" / "fear").mkdir()
    with pytest.warns(UserWarning, match="train/fear: an empty emotion folder; train/ has no Fear images"):
        assert read_fer2013(root)[1].tolist() == [0, 3, 1, 3, 6]


@pytest.mark.parametrize("first, second", [("train", "Train"), ("train/happy", "train/Happy")])
def test_folders_differing_only_by_case_are_refused(tmp_path, first, second):
    root = folder(tmp_path)
    if not case_sensitive(tmp_path):
        pytest.skip("this file system folds case")
    face(root / second / "angry" / "Training_9.png") if second == "Train" else face(root / second / "Training_9.png")
    message = refused(root, "differ only by case")
    assert str(root / first) in message and str(root / second) in message


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    root = folder(tmp_path)
    levels = np.linspace(0, 65535, 48 * 48).round().astype(np.uint16).reshape(48, 48)
    Image.fromarray(levels).save(root / "train" / "angry" / "Training_16.png")
    assert Image.open(root / "train" / "angry" / "Training_16.png").mode == "I;16"
    x, y, _ = read_fer2013(root)
    assert np.array_equal(x[1].numpy(), np.round(levels / 257).astype(np.uint8))


def test_fruits_by_variety_refuses_a_class_one_split_lacks(tmp_path):
    root = tmp_path / "fruits-360"
    for split, classes in (("Training", ["Apple A", "Apple C"]), ("Test", ["Apple A", "Apple B", "Apple C"])):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            Image.new("RGB", (100, 100), (200, 30, 30)).save(root / split / c / "0_100.jpg")
    with pytest.raises(ValueError, match=r"only in Test: \['Apple B'\]; only in Training: none") as err:
        load_fruits360(root, "Test", fruits=["Apple"], group=False, quiet=True)
    assert str(root / "Test") in str(err.value)
    assert load_fruits360(root, "Test", fruits=["Apple"], quiet=True).counts() == [3]  # by fruit, Apple B is an apple
    both = load_fruits360(root, "Test", classes=["Apple C", "Apple A"], group=False, quiet=True)
    assert both.classes == ["Apple C", "Apple A"] and both.y.tolist() == [0, 1]
    (root / "Test" / "Apple B" / "0_100.jpg").rename(root / "Test" / "Apple A" / "1_100.jpg")
    (root / "Test" / "Apple B").rmdir()
    (root / "Test" / "Apple C" / "0_100.jpg").unlink()
    (root / "Test" / "Apple C").rmdir()
    with pytest.raises(ValueError, match=r"only in Test: none; only in Training: \['Apple C'\]"):
        load_fruits360(root, "Test", fruits=["Apple"], group=False, quiet=True)
