"""labkit.data.fetch: datasets already in place are checked and returned without the network;
missing ones are downloaded into a staging folder (here the network is always refused); bad
copies are named, never deleted; FER2013 says what to download by hand."""
import gzip
import hashlib
import importlib
import runpy
import sys
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
import torchvision
from conftest import SHARED_DATA

F = importlib.import_module("labkit.data.fetch")  # the module, even where labkit.data exports the function
MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test reaches the network: every URL opened is refused, and recorded."""
    opened = []

    def refuse(request, *args, **kwargs):
        opened.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return opened


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _mnist_folder(root: Path, monkeypatch, recompress: bool = False) -> dict[str, bytes]:
    """Four small gzipped idx-like files in root/MNIST/raw, whose MD5s are patched into torchvision's
    table (and the uncompressed ones into MNIST_RAW_MD5); with ``recompress``, the .gz on disk is
    compressed again, so only its contents match."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    contents, resources, raw_md5 = {}, [], {}
    for i, name in enumerate(MNIST_FILES):
        data = bytes([0, 0, 8, 1]) + bytes(range(i, i + 40))
        gz = gzip.compress(data, mtime=0)
        resources.append((f"{name}.gz", _md5(gz)))
        (raw / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1, mtime=12345) if recompress else gz)
        raw_md5[name] = _md5(data)
        contents[name] = data
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    monkeypatch.setattr(F, "MNIST_RAW_MD5", raw_md5)
    return contents


def _no_download(monkeypatch):
    calls = []
    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", lambda *a, **k: calls.append(a))
    return calls


def _image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xe0 not decoded by the check")


def _fruits_folder(folder: Path, classes=("Apple Red 1", "Banana")) -> None:
    for split in ("Training", "Test"):
        for c in classes:
            _image(folder / split / c / "r_1_100.jpg")


def _fer_folders(folder: Path) -> None:
    for split in ("train", "test"):
        for e in F.FER_EMOTIONS:
            _image(folder / split / e / f"{'Training' if split == 'train' else 'PublicTest'}_1.jpg")


def _hidden_leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*")]


# --- MNIST --------------------------------------------------------------------------------------

def test_mnist_present_returns_without_download(tmp_path, monkeypatch, offline):
    _mnist_folder(tmp_path, monkeypatch)
    calls = _no_download(monkeypatch)
    assert F.fetch("mnist", tmp_path) == tmp_path / "MNIST" / "raw"
    assert F.fetch("mnist", str(tmp_path)) == tmp_path / "MNIST" / "raw"  # idempotent, str root too
    assert calls == [] and offline == []


def test_mnist_recompressed_or_unzipped_files_pass_by_contents(tmp_path, monkeypatch):
    contents = _mnist_folder(tmp_path, monkeypatch, recompress=True)
    raw = tmp_path / "MNIST" / "raw"
    assert _md5((raw / "train-images-idx3-ubyte.gz").read_bytes()) != torchvision.datasets.MNIST.resources[0][1]
    assert F.fetch("mnist", tmp_path, download=False) == raw
    for name, data in contents.items():  # unzipped beside the .gz, as torchvision leaves them
        (raw / name).write_bytes(data)
    assert F.check("mnist", tmp_path) == raw
    (raw / "t10k-labels-idx1-ubyte").write_bytes(contents["t10k-labels-idx1-ubyte"][:-1])
    with pytest.raises(F.DatasetCorrupt, match="t10k-labels-idx1-ubyte: MD5"):
        F.check("mnist", tmp_path)


def test_mnist_wrong_md5_names_the_file_and_the_expected_md5(tmp_path, monkeypatch, offline):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        (raw / f"{name}.gz").write_bytes(gzip.compress(b"\0\0\x08\x03" + bytes(1000), mtime=0)[:30])  # truncated
    calls = _no_download(monkeypatch)
    with pytest.raises(F.DatasetCorrupt) as err:
        F.fetch("mnist", tmp_path)
    msg = str(err.value)
    assert str(raw / "train-images-idx3-ubyte.gz") in msg
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg  # torchvision's MD5 of train-images-idx3-ubyte.gz
    assert F.MNIST_RAW_MD5["train-images-idx3-ubyte"] in msg and "not a complete gzip file" in msg
    assert calls == [] and offline == []
    assert sorted(p.name for p in raw.iterdir()) == sorted(f"{n}.gz" for n in MNIST_FILES)  # nothing deleted


def test_mnist_partial_folder_is_named_not_completed(tmp_path, monkeypatch):
    _mnist_folder(tmp_path, monkeypatch)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    calls = _no_download(monkeypatch)
    with pytest.raises(F.DatasetCorrupt, match=r"MNIST is incomplete, missing t10k-labels-idx1-ubyte\.gz \(MD5 "):
        F.fetch("mnist", tmp_path)
    assert calls == []


def test_mnist_offline_names_dataset_url_and_target_and_leaves_nothing(tmp_path, offline):
    root = tmp_path / "data"
    target = root / "MNIST" / "raw"
    with pytest.raises(F.DatasetUnavailable) as err:
        F.fetch("mnist", root)
    msg = str(err.value)
    assert isinstance(err.value, RuntimeError) and "\n" not in msg
    assert msg.startswith("MNIST: could not download https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz")
    assert str(target) in msg and "URLError" in msg and "by hand" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert any("ossci-datasets" in str(u) for u in offline)  # it did try, through torchvision's downloader
    assert not root.exists()  # nor MNIST/, nor a staging folder: the folders it made are gone


def test_mnist_offline_in_an_existing_root_leaves_no_staging_folder(tmp_path, offline):
    (tmp_path / "MNIST").mkdir()
    with pytest.raises(F.DatasetUnavailable):
        F.fetch("mnist", tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["MNIST"]  # as it was
    assert F.check("mnist", tmp_path) is None


def test_mnist_download_is_staged_checked_and_renamed(tmp_path, monkeypatch):
    """A stand-in for torchvision's downloader writes the files; they land in MNIST/raw whole."""
    contents = _mnist_folder(tmp_path / "src", monkeypatch)
    seen = []

    def fake_download(url, download_root, filename, md5):
        seen.append((url, Path(download_root)))
        data = contents[filename.removesuffix(".gz")]
        Path(download_root).mkdir(parents=True, exist_ok=True)
        (Path(download_root) / filename).write_bytes(gzip.compress(data, mtime=0))
        (Path(download_root) / filename.removesuffix(".gz")).write_bytes(data)

    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", fake_download)
    root = tmp_path / "data"
    assert F.fetch("mnist", root) == root / "MNIST" / "raw"
    assert len(seen) == 4 and all(d.parent.name.endswith(".partial") and d.parent.parent == root / "MNIST" for _, d in seen)
    assert seen[0][0] == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    assert sorted(p.name for p in (root / "MNIST").iterdir()) == ["raw"]  # the staging folder is gone
    assert len(list((root / "MNIST" / "raw").iterdir())) == 8


def test_mnist_download_false_never_uses_the_network(tmp_path, offline):
    with pytest.raises(F.DatasetUnavailable, match="download=False; to place it by hand, copy the four files"):
        F.fetch("mnist", tmp_path, download=False)
    assert offline == [] and list(tmp_path.iterdir()) == []


# --- Fruits-360 ---------------------------------------------------------------------------------

def test_fruits_layout_passes(tmp_path, offline):
    _fruits_folder(tmp_path / "fruits-360")
    assert F.fetch("fruits-360", tmp_path) == tmp_path / "fruits-360"
    assert offline == []


def test_fruits_missing_test_folder_is_a_clear_error(tmp_path, offline):
    folder = tmp_path / "fruits-360"
    _fruits_folder(folder)
    for f in (folder / "Test").rglob("*.jpg"):
        f.unlink()
    for d in sorted((folder / "Test").rglob("*"), reverse=True):
        d.rmdir()
    (folder / "Test").rmdir()
    with pytest.raises(F.DatasetCorrupt) as err:
        F.fetch("fruits-360", tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"{folder / 'Test'}: no Test/ folder in {folder} (found ['Training'])")
    assert "no hash is published" in msg
    assert offline == [] and (folder / "Training" / "Banana" / "r_1_100.jpg").is_file()


def test_fruits_empty_class_folder_is_named(tmp_path):
    folder = tmp_path / "fruits-360"
    _fruits_folder(folder, classes=("Apple Red 1", "Banana", "Grape Blue"))
    (folder / "Training" / "Grape Blue" / "r_1_100.jpg").unlink()
    with pytest.raises(F.DatasetCorrupt, match=r"Training: 1 of 3 class folders hold no images \(Grape Blue\)"):
        F.fetch("fruits-360", tmp_path)


def test_fruits_offline_names_url_and_target_and_leaves_nothing(tmp_path, offline):
    with pytest.raises(F.DatasetUnavailable) as err:
        F.fetch("fruits-360", tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"Fruits-360: could not download {F.FRUITS_URL} into {tmp_path / 'fruits-360'} (URLError")
    assert "\n" not in msg and "Training" in msg
    assert F.FRUITS_URL in offline
    assert list(tmp_path.iterdir()) == []


def test_fruits_download_with_a_bad_layout_puts_nothing_in_place(tmp_path, monkeypatch):
    def fake_download(url, download_root, filename, remove_finished):
        _fruits_folder(Path(download_root) / "fruits-360-100x100-main")
        for f in (Path(download_root) / "fruits-360-100x100-main" / "Test").rglob("*.jpg"):
            f.unlink()

    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", fake_download)
    with pytest.raises(F.DatasetCorrupt, match=r"Fruits-360: what was downloaded from https://github\.com/fruits-360/.* "
                                                r"does not have the expected layout .*class folders hold no images"):
        F.fetch("fruits-360", tmp_path)
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive",
                        lambda url, download_root, filename, remove_finished: _fruits_folder(Path(download_root) / "top"))
    assert F.fetch("fruits-360", tmp_path) == tmp_path / "fruits-360"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fruits-360"]
    assert sorted(p.name for p in (tmp_path / "fruits-360").iterdir()) == ["Test", "Training"]


# --- CelebA -------------------------------------------------------------------------------------

class _FakeCelebA:
    """Stands in for torchvision's CelebA: its file list, and a download that writes small files."""
    base_folder = "celeba"
    texts = {"list_attr_celeba.txt": b"attr\n", "list_eval_partition.txt": b"000001.jpg 0\n"}
    file_list = [("zipid", "0" * 32, "img_align_celeba.zip")] + [(f"id{i}", _md5(t), n) for i, (n, t) in enumerate(texts.items())]
    fail: BaseException | None = None

    def __init__(self, root, split, target_type, download):
        if self.fail is not None:
            raise self.fail
        folder = Path(root) / "celeba"
        _image(folder / "img_align_celeba" / "000001.jpg")
        (folder / "img_align_celeba.zip").write_bytes(b"PK")
        for name, text in self.texts.items():
            (folder / name).write_bytes(text)


def test_celeba_download_lands_whole_and_a_bad_annotation_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets, "CelebA", _FakeCelebA)
    with pytest.warns(UserWarning, match="1 images, not CelebA's 202,599"):
        assert F.fetch("celeba", tmp_path) == tmp_path / "celeba"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["celeba"]
    assert sorted(p.name for p in (tmp_path / "celeba").iterdir()) == ["img_align_celeba", "list_attr_celeba.txt",
                                                                       "list_eval_partition.txt"]  # the zip removed
    (tmp_path / "celeba" / "list_attr_celeba.txt").write_bytes(b"edited\n")
    with pytest.raises(F.DatasetCorrupt) as err:
        F.check("celeba", tmp_path)
    assert str(tmp_path / "celeba" / "list_attr_celeba.txt") in str(err.value)
    assert _md5(b"attr\n") in str(err.value)


def test_celeba_offline_names_url_and_target_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets, "CelebA", _FakeCelebA)
    monkeypatch.setattr(_FakeCelebA, "fail", urllib.error.URLError("network is unreachable"))
    with pytest.raises(F.DatasetUnavailable) as err:
        F.fetch("celeba", tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"CelebA: could not download https://drive.google.com/uc?id=zipid into {tmp_path / 'celeba'}")
    assert "img_align_celeba" in msg and "\n" not in msg
    assert list(tmp_path.iterdir()) == []


def test_celeba_with_real_file_list_requires_the_image_folder(tmp_path):
    (tmp_path / "celeba").mkdir()
    (tmp_path / "celeba" / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    with pytest.raises(F.DatasetCorrupt, match=r"img_align_celeba: no such folder \(found \['list_eval_partition.txt'\]\)"):
        F.fetch("celeba", tmp_path)


# --- FER2013 ------------------------------------------------------------------------------------

def test_fer_missing_says_what_to_download_from_kaggle_and_where(tmp_path, offline):
    with pytest.raises(F.DatasetUnavailable) as err:
        F.fetch("fer2013", tmp_path)
    msg = str(err.value)
    assert isinstance(err.value, RuntimeError)
    assert "kaggle" in msg.lower() and F.FER_COMPETITION in msg and "msambare/fer2013" in msg
    assert str(tmp_path / "fer2013" / "fer2013.csv") in msg and str(tmp_path / "fer2013" / "train") in msg
    assert offline == [] and list(tmp_path.iterdir()) == []


def test_fer_image_folders_pass(tmp_path):
    _fer_folders(tmp_path / "fer2013")
    assert F.fetch("fer2013", tmp_path) == tmp_path / "fer2013"


def test_fer_missing_emotion_folder_is_named(tmp_path):
    _fer_folders(tmp_path / "fer2013")
    (tmp_path / "fer2013" / "train" / "disgust" / "Training_1.jpg").unlink()
    (tmp_path / "fer2013" / "train" / "disgust").rmdir()
    with pytest.raises(F.DatasetCorrupt, match=r"fer2013/train: no emotion folder disgust"):
        F.fetch("fer2013", tmp_path)


def test_fer_csv_is_checked_against_torchvisions_md5(tmp_path, monkeypatch):
    csv = tmp_path / "fer2013" / "fer2013.csv"
    csv.parent.mkdir()
    csv.write_text("emotion,pixels,Usage\n0," + " ".join(["0"] * 2304) + ",Training\n")
    with pytest.raises(F.DatasetCorrupt) as err:
        F.fetch("fer2013", tmp_path)
    assert str(csv) in str(err.value) and "f8428a1edbd21e88f42c73edd2a14f95" in str(err.value)
    monkeypatch.setattr(F, "_fer_csv_md5", lambda: _md5(csv.read_bytes()))
    assert F.fetch("fer2013", tmp_path) == csv  # the CSV alone: the loader takes the file


# --- names and the command line -----------------------------------------------------------------

def test_unknown_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar10'; the course's datasets are mnist, fruits-360, celeba, fer2013"):
        F.fetch("cifar10", tmp_path)


def test_cli_prints_the_path_or_the_error_with_exit_code_1(tmp_path, monkeypatch, capsys):
    _fruits_folder(tmp_path / "fruits-360")
    assert F.main(["fruits-360", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "fruits-360")
    assert F.main(["fer2013", str(tmp_path)]) == 1
    assert "kaggle" in capsys.readouterr().err.lower()
    assert F.main(["mnist", str(tmp_path), "--no-download"]) == 1
    assert "download=False" in capsys.readouterr().err
    assert F.main(["svhn", str(tmp_path)]) == 1
    assert "fruits-360" in capsys.readouterr().err


def test_cli_as_a_module(tmp_path, monkeypatch, capsys):
    """``python -m labkit.data.fetch`` runs main() and exits with its status (run in this process:
    a new interpreter would spend seconds importing torch)."""
    monkeypatch.setattr(sys, "argv", ["fetch", "fer2013", str(tmp_path)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # runpy: the tests imported the module already
        with pytest.raises(SystemExit) as exit_:
            runpy.run_module("labkit.data.fetch", run_name="__main__", alter_sys=True)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: FER2013 is not in") and str(tmp_path / "fer2013") in err


# --- the course's real copies -------------------------------------------------------------------

@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").exists(), reason="../shared/data/MNIST is absent")
def test_real_copies_pass_without_the_network(monkeypatch, offline):
    calls = _no_download(monkeypatch)
    assert F.fetch("mnist", SHARED_DATA) == SHARED_DATA / "MNIST" / "raw"
    for name, folder in (("fruits-360", "fruits-360"), ("fer2013", "fer2013")):
        if (SHARED_DATA / folder).exists():
            assert F.fetch(name, SHARED_DATA) == SHARED_DATA / folder
    assert calls == [] and offline == []
