"""Getting the course's datasets: ``fetch(name, root)`` puts one into a data folder laid out like
the course's (``root/MNIST/raw``, ``root/fruits-360``, ``root/celeba``, ``root/fer2013``),
downloading it when it is missing and its source allows, and returns its path, which the matching
loader takes (``load_mnist``, ``load_fruits360``, ``load_faces``, ``load_fer2013``).

A copy already in place is checked and returned at once, without the network, so calling
``fetch`` at the top of every chapter costs a check only. A copy that fails its check stops with
an error naming the file and what was expected (:class:`DatasetCorrupt`); it is never deleted or
overwritten: mend it, or move it away and call again. A download goes into a hidden folder beside
the target (``.<name>-*.partial``) and is renamed into place only once it has passed the same
check, so a download cut short (offline, interrupted, a full disk) leaves nothing that a later
call would take for the dataset.

What is checked, and why:

- **MNIST** (``root/MNIST/raw``, torchvision's layout): the four idx files, gzipped or not. A
  ``.gz`` must have the MD5 of torchvision's table (``torchvision.datasets.MNIST.resources``), or,
  when it was compressed again (its bytes then differ, its contents do not), its contents must
  have the MD5 of the official uncompressed file (:data:`MNIST_RAW_MD5`); an unzipped file must
  have the latter. Downloaded from torchvision's mirrors with its MD5s, and unzipped beside the
  ``.gz`` as torchvision does, so ``torchvision.datasets.MNIST(root)`` reads the folder too.
- **Fruits-360** (``root/fruits-360``): no hash is published for it (and the archive of a GitHub
  branch changes with every commit), so its layout and counts are checked instead: ``Training/``
  and ``Test/`` each hold class folders, and every class folder holds images. A copy cut short
  inside one class folder still passes; fetch's own downloads cannot be cut short that way (they
  are renamed into place whole). Downloaded from :data:`FRUITS_URL`, the current upstream release
  (CC BY-SA 4.0), which is not the 2019.05.06.1 release of the course's reference copy: its classes
  and counts differ, so say which release a result used.
- **CelebA** (``root/celeba``, the layout ``torchvision.datasets.CelebA(root)`` expects):
  ``img_align_celeba/`` must hold images, and each annotation file present must have the MD5 of
  torchvision's ``CelebA.file_list``. The 202,599 images have no published hash (torchvision does
  not check them either); an annotation file that is missing, or a number of images other than
  202,599, gives a warning only: ``labkit.data.faces`` reads the images alone, torchvision's class
  needs every file. Downloaded by torchvision's ``CelebA(root, download=True)`` from Google Drive
  (which needs the ``gdown`` package and has daily quotas); the 1.4 GB zip is removed once
  extracted.
- **FER2013** (``root/fer2013``): it cannot be downloaded for you, since Kaggle requires an account
  and accepting the challenge's rules, so a missing copy raises :class:`DatasetUnavailable`
  saying exactly what to download and where to put it. Either form the course's loader reads
  passes: Kaggle's ``fer2013.csv`` (with torchvision's MD5 for it, where torchvision knows one),
  or the image-folder copy ``train/<emotion>/`` (and ``test/``), all seven emotion folders
  holding images.

From a shell: ``python -m labkit.data.fetch NAME ROOT [--no-download]`` prints the path, or the
error and exits with status 1.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

NAMES = ("mnist", "fruits-360", "celeba", "fer2013")

# Fruits-360: the upstream 100x100 release, as GitHub archives its main branch (no hash published)
FRUITS_URL = "https://github.com/fruits-360/fruits-360-100x100/archive/refs/heads/main.zip"
FRUITS_ARCHIVE = "fruits-360-100x100-main.zip"
# MD5s of the official uncompressed MNIST idx files (torchvision lists only those of the .gz files)
MNIST_RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
CELEBA_PAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
CELEBA_IMAGES = 202_599
FER_COMPETITION = "challenges-in-representation-learning-facial-expression-recognition-challenge"
FER_CSV_URL = f"https://www.kaggle.com/c/{FER_COMPETITION}/data"
FER_FOLDERS = "msambare/fer2013"
FER_FOLDERS_URL = f"https://www.kaggle.com/datasets/{FER_FOLDERS}"
FER_EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


class DatasetUnavailable(RuntimeError):
    """The dataset is not in place and cannot be fetched here: offline, ``download=False``, an
    unwritable folder, or a dataset that must be downloaded by hand (FER2013). The message says
    where the files come from and where to put them."""


class DatasetCorrupt(ValueError):
    """A copy in place fails its check (a wrong MD5, a missing file or folder). The message names
    the file and what was expected; the files are left as they are."""


class _DownloadFailed(Exception):
    def __init__(self, url: str, cause: BaseException):
        super().__init__(url)
        self.url, self.cause = url, cause


Found = tuple[Path, list[str]]  # the path to return and the warnings to give


@dataclass(frozen=True)
class _Dataset:
    title: str
    folder: str  # the target, relative to root
    check: Callable[[Path], Found | None]  # None: absent; raises DatasetCorrupt when present but bad
    source: Callable[[], str]  # where it is downloaded from (or where to get it)
    by_hand: Callable[[Path], str]  # how to put it in the target folder by hand
    download: Callable[[Path], Path] | None  # into a staging folder; returns the finished folder in it


# --- shared helpers ---------------------------------------------------------------------------

def _one_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {' '.join(str(err).split()) or 'no message'}"


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _md5_gunzipped(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with gzip.open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _expect_md5(path: Path, md5: str, what: str) -> None:
    got = _md5(path)
    if got != md5:
        raise DatasetCorrupt(f"{path}: MD5 {got}, expected {md5} ({what}); a download cut short or altered: "
                             f"replace the file, or move the folder away and fetch again")


def _visible(folder: Path) -> list[str]:
    """The names in ``folder`` that are not hidden (``.DS_Store``, a staging folder)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _present(folder: Path, title: str) -> bool:
    """Whether something is there to check: a folder with any entry that is not hidden."""
    if folder.exists() and not folder.is_dir():
        raise DatasetCorrupt(f"{folder}: a file, where the {title} folder goes; move it away")
    return folder.is_dir() and bool(_visible(folder))


def _count_images(folder: Path, recursive: bool = False) -> int:
    n = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        n += sum(1 for f in filenames if not f.startswith(".") and os.path.splitext(f)[1].lower() in _IMAGE_SUFFIXES)
        if not recursive:
            break
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    return n


def _subfolders(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")]


# --- MNIST ------------------------------------------------------------------------------------

def _mnist_resources() -> list[tuple[str, str]]:
    """torchvision's (file name, MD5) of the four .gz files."""
    from torchvision.datasets import MNIST

    return [(f, md5) for f, md5 in MNIST.resources]


def _mnist_mirrors() -> list[str]:
    from torchvision.datasets import MNIST

    return list(MNIST.mirrors)


def _check_mnist_gz(path: Path, md5: str, raw_md5: str | None) -> None:
    got = _md5(path)
    if got == md5:
        return
    expected = f"expected {md5} (torchvision's MNIST file)" + (f" or, once unzipped, {raw_md5} (the official idx file)" if raw_md5 else "")
    if raw_md5:
        try:
            if _md5_gunzipped(path) == raw_md5:
                return  # compressed again: other bytes, the same contents
        except (OSError, EOFError, zlib.error) as err:
            raise DatasetCorrupt(f"{path}: not a complete gzip file ({_one_line(err)}); MD5 {got}, {expected}; "
                                 f"replace the file, or move the folder away and fetch again") from None
    raise DatasetCorrupt(f"{path}: MD5 {got}, {expected}; a download cut short or altered: "
                         f"replace the file, or move the folder away and fetch again")


def _mnist_check(folder: Path) -> Found | None:
    if not _present(folder, "MNIST"):
        return None
    resources = _mnist_resources()
    missing = [f for f, _ in resources if not (folder / f).is_file() and not (folder / f.removesuffix(".gz")).is_file()]
    if missing:
        wanted = ", ".join(f"{f} (MD5 {md5})" for f, md5 in resources if f in missing)
        raise DatasetCorrupt(f"{folder}: MNIST is incomplete, missing {wanted}, gzipped or not; "
                             f"put them there, or move the folder away and fetch again")
    for filename, md5 in resources:
        base = filename.removesuffix(".gz")
        raw_md5 = MNIST_RAW_MD5.get(base)
        if (folder / filename).is_file():
            _check_mnist_gz(folder / filename, md5, raw_md5)
        if (folder / base).is_file() and base != filename and raw_md5:
            _expect_md5(folder / base, raw_md5, "the official uncompressed MNIST file")
    return folder, []


def _mnist_download(staging: Path) -> Path:
    from torchvision.datasets.utils import download_and_extract_archive

    out = staging / "raw"
    for filename, md5 in _mnist_resources():
        urls = [m + filename for m in _mnist_mirrors()]
        first: BaseException | None = None
        for url in urls:
            try:  # checks the MD5, and unzips beside the .gz as torchvision's MNIST does
                download_and_extract_archive(url, download_root=str(out), filename=filename, md5=md5)
                break
            except Exception as err:  # noqa: BLE001 - offline, a mirror down, a bad file: try the next mirror
                first = first or err
        else:
            raise _DownloadFailed(" or ".join(urls), first or RuntimeError("no mirror"))
    return out


def _mnist_by_hand(target: Path) -> str:
    files = ", ".join(f for f, _ in _mnist_resources())
    return f"copy the four files {files} (from a torchvision MNIST/raw folder on any machine) into {target}"


# --- Fruits-360 -------------------------------------------------------------------------------

def _fruits_check(folder: Path) -> Found | None:
    if not _present(folder, "Fruits-360"):
        return None
    for split in ("Training", "Test"):
        d = folder / split
        if not d.is_dir():
            raise DatasetCorrupt(
                f"{d}: no {split}/ folder in {folder} (found {_visible(folder)}); Fruits-360 has Training/ and Test/, "
                f"each with one folder of .jpg images per class (no hash is published for it, so its layout is what "
                f"is checked); unzip the archive again, or move the folder away and fetch again")
        classes = _subfolders(d)
        if not classes:
            raise DatasetCorrupt(f"{d}: no class folders; expected {split}/<class name>/*.jpg")
        empty = [c.name for c in classes if _count_images(c) == 0]
        if empty:
            more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
            raise DatasetCorrupt(f"{d}: {len(empty)} of {len(classes)} class folders hold no images "
                                 f"({', '.join(empty[:5])}{more}); an unzip cut short? unzip the archive again")
    return folder, []


def _fruits_download(staging: Path) -> Path:
    from torchvision.datasets.utils import download_and_extract_archive

    try:
        download_and_extract_archive(FRUITS_URL, download_root=str(staging), filename=FRUITS_ARCHIVE, remove_finished=True)
    except Exception as err:  # noqa: BLE001 - offline, or not a zip: said with the URL and the target
        raise _DownloadFailed(FRUITS_URL, err) from err
    tops = [p for p in _subfolders(staging) if (p / "Training").is_dir()]
    return tops[0] if len(tops) == 1 else staging  # the archive's one top folder (fruits-360-100x100-main)


def _fruits_by_hand(target: Path) -> str:
    return (f"download {FRUITS_URL} (or Kaggle's 'moltean/fruits') on a machine that is online and unzip it so that "
            f"{target / 'Training'}/<class>/*.jpg and {target / 'Test'}/<class>/*.jpg exist")


# --- CelebA -----------------------------------------------------------------------------------

def _celeba_files() -> list[tuple[str, str, str]]:
    """torchvision's (Google Drive id, MD5, file name) of CelebA's files."""
    from torchvision.datasets import CelebA

    return [tuple(entry) for entry in CelebA.file_list]  # type: ignore[misc]


def _celeba_source() -> str:
    ids = [file_id for file_id, _, name in _celeba_files() if name == "img_align_celeba.zip"]
    return f"https://drive.google.com/uc?id={ids[0]}" if ids else CELEBA_PAGE


def _celeba_check(folder: Path) -> Found | None:
    if not _present(folder, "CelebA"):
        return None
    images = folder / "img_align_celeba"
    if not images.is_dir():
        raise DatasetCorrupt(f"{images}: no such folder (found {_visible(folder)}); CelebA in torchvision's layout has "
                             f"img_align_celeba/*.jpg and its annotation files in {folder}")
    missing = []
    for _, md5, name in _celeba_files():
        if name.endswith((".zip", ".7z")):
            continue  # the images' archive: they are checked by being there, as torchvision does
        if (folder / name).is_file():
            _expect_md5(folder / name, md5, "torchvision's CelebA file")
        else:
            missing.append(name)
    n = _count_images(images, recursive=True)
    if n == 0:
        raise DatasetCorrupt(f"{images}: no .jpg images; unzip img_align_celeba.zip in {folder}")
    notes = []
    if missing:
        notes.append(f"{folder}: no {', '.join(missing)}; labkit.data.faces reads the images alone, "
                     f"torchvision's CelebA class needs these files too")
    if n != CELEBA_IMAGES:
        notes.append(f"{images}: {n:,} images, not CelebA's {CELEBA_IMAGES:,} (a subset, or an unzip cut short)")
    return folder, notes


def _celeba_download(staging: Path) -> Path:
    from torchvision.datasets import CelebA

    try:
        CelebA(str(staging), split="all", target_type=[], download=True)
    except Exception as err:  # noqa: BLE001 - offline, Drive's quota, gdown missing: said with the URL and the target
        raise _DownloadFailed(_celeba_source(), err) from err
    done = staging / CelebA.base_folder
    (done / "img_align_celeba.zip").unlink(missing_ok=True)  # extracted: 1.4 GB not needed again
    return done


def _celeba_by_hand(target: Path) -> str:
    txt = ", ".join(name for _, _, name in _celeba_files() if name.endswith(".txt"))
    return (f"download img_align_celeba.zip and {txt} from CelebA's Google Drive ({CELEBA_PAGE}) into "
            f"{target} and unzip img_align_celeba.zip there, so that {target / 'img_align_celeba' / '000001.jpg'} exists")


# --- FER2013 ----------------------------------------------------------------------------------

def _fer_csv_md5() -> str | None:
    """torchvision's MD5 of Kaggle's fer2013.csv, where this torchvision knows one."""
    try:
        from torchvision.datasets import FER2013

        return FER2013._RESOURCES["fer"][1]  # type: ignore[attr-defined]
    except (ImportError, AttributeError, KeyError, IndexError, TypeError):
        return None


def _check_fer_csv(path: Path) -> None:
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            head = f.read(64).removeprefix(b"\xef\xbb\xbf")
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetCorrupt(f"{path}: not a readable file ({_one_line(err)})") from None
    if not head.lower().startswith(b"emotion,pixels"):
        raise DatasetCorrupt(f"{path}: does not start with the header emotion,pixels,Usage of Kaggle's fer2013.csv "
                             f"(starts {head[:30]!r})")
    md5 = _fer_csv_md5() if path.suffix == ".csv" else None
    if md5:
        _expect_md5(path, md5, "Kaggle's fer2013.csv, as torchvision checks it")


def _check_emotions(split: Path) -> None:
    folders = {p.name.lower(): p for p in _subfolders(split)}
    missing = [e for e in FER_EMOTIONS if e not in folders]
    if missing:
        raise DatasetCorrupt(f"{split}: no emotion folder {', '.join(missing)} (found {sorted(folders) or 'none'}); "
                             f"FER2013's image folders are {' '.join(FER_EMOTIONS)}")
    empty = [e for e in FER_EMOTIONS if _count_images(folders[e]) == 0]
    if empty:
        raise DatasetCorrupt(f"{split}: the emotion folders {', '.join(empty)} hold no images; an unzip cut short? "
                             f"unzip the archive again")


def _fer_check(folder: Path) -> Found | None:
    if not _present(folder, "FER2013"):
        return None
    parts = {p.name.lower(): p for p in _subfolders(folder)}
    csvs = [folder / n for n in ("fer2013.csv", "fer2013.csv.gz") if (folder / n).is_file()]
    for path in csvs:
        _check_fer_csv(path)
    for split in ("train", "test"):
        if split in parts:
            _check_emotions(parts[split])
    if "train" in parts:
        return folder, []
    if csvs:
        return csvs[0], []  # the loader takes the CSV itself
    raise DatasetCorrupt(f"{folder}: neither fer2013.csv nor train/<emotion>/ folders (found {_visible(folder)}); "
                         f"{_fer_by_hand(folder)}")


def _fer_by_hand(target: Path) -> str:
    return (f"FER2013 cannot be downloaded for you (Kaggle requires an account and accepting the challenge's rules): "
            f"sign in to kaggle.com and download either the competition '{FER_COMPETITION}' ({FER_CSV_URL}; "
            f"kaggle competitions download -c {FER_COMPETITION}), whose fer2013.tar.gz holds fer2013.csv: put it at "
            f"{target / 'fer2013.csv'}; or the image-folder copy '{FER_FOLDERS}' ({FER_FOLDERS_URL}; "
            f"kaggle datasets download -d {FER_FOLDERS}): unzip it so that {target / 'train'}/<emotion>/*.jpg and "
            f"{target / 'test'}/<emotion>/*.jpg exist ({' '.join(FER_EMOTIONS)})")


# --- fetch ------------------------------------------------------------------------------------

_DATASETS = {
    "mnist": _Dataset("MNIST", "MNIST/raw", _mnist_check, lambda: " or ".join(_mnist_mirrors()), _mnist_by_hand, _mnist_download),
    "fruits-360": _Dataset("Fruits-360", "fruits-360", _fruits_check, lambda: FRUITS_URL, _fruits_by_hand, _fruits_download),
    "celeba": _Dataset("CelebA", "celeba", _celeba_check, _celeba_source, _celeba_by_hand, _celeba_download),
    "fer2013": _Dataset("FER2013", "fer2013", _fer_check, lambda: FER_CSV_URL, _fer_by_hand, None),
}


def _dataset(name: str) -> _Dataset:
    if name not in _DATASETS:
        raise ValueError(f"unknown dataset {name!r}; the course's datasets are {', '.join(NAMES)}")
    return _DATASETS[name]


def _warn(notes: list[str]) -> None:
    for note in notes:
        warnings.warn(note, stacklevel=3)


def target_folder(name: str, root: str | Path) -> Path:
    """Where ``fetch(name, root)`` puts the dataset ``name``."""
    return Path(root).expanduser() / _dataset(name).folder


def check(name: str, root: str | Path) -> Path | None:
    """The path ``fetch`` would return, when the dataset is in ``root`` and passes its check;
    None when it is not there. A copy that fails its check raises :class:`DatasetCorrupt`.
    Never uses the network."""
    found = _dataset(name).check(target_folder(name, root))
    if found is None:
        return None
    _warn(found[1])
    return found[0]


def _make_parents(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, adding each one made to ``created`` (deepest
    first), so that a failure can remove them again."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir()
        created.insert(0, d)


def _remove_empty(folders: list[Path]) -> None:
    for d in folders:
        try:
            d.rmdir()
        except OSError:
            break


def _put_in_place(done: Path, target: Path) -> None:
    """Move the checked download ``done`` to ``target`` (absent, or holding hidden files only)."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        os.replace(done, target)  # one rename: the dataset appears whole or not at all
        return
    # files first, folders last: a move cut short lacks a folder (or file) the check requires
    for entry in sorted(done.iterdir(), key=lambda p: (p.is_dir(), p.name)):
        os.replace(entry, target / entry.name)


def _download(ds: _Dataset, target: Path) -> Path:
    assert ds.download is not None
    created: list[Path] = []
    try:
        _make_parents(target.parent, created)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", suffix=".partial", dir=target.parent))
    except OSError as err:
        _remove_empty(created)
        raise DatasetUnavailable(f"{ds.title}: cannot write in {target.parent} ({_one_line(err)}); "
                                 f"pass a root folder you can write to") from None
    try:
        try:
            done = ds.download(staging)
        except _DownloadFailed as err:
            raise DatasetUnavailable(f"{ds.title}: could not download {err.url} into {target} "
                                     f"({_one_line(err.cause)}); to place it by hand, {ds.by_hand(target)}") from None
        try:
            found = ds.check(done)
            why = f"found {_visible(done)}"
        except DatasetCorrupt as err:
            found, why = None, str(err)
        if found is None:
            raise DatasetCorrupt(f"{ds.title}: what was downloaded from {ds.source()} does not have the expected layout "
                                 f"({why}); nothing was put in {target}")
        _put_in_place(done, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    path, notes = found
    _warn(notes)
    return target / path.relative_to(done)


def fetch(name: str, root: str | Path, *, download: bool = True) -> Path:
    """The dataset ``name`` (one of :data:`NAMES`) in the data folder ``root``: its path, which
    the matching loader takes (``root/MNIST/raw``, ``root/fruits-360``, ``root/celeba``, and
    ``root/fer2013``, or ``root/fer2013/fer2013.csv`` when FER2013 is there as the CSV only).

    A copy already there is checked (see the module's docstring) and returned without the
    network; one that fails its check raises :class:`DatasetCorrupt` and is left as it is. A
    missing one is downloaded when ``download`` is true (into a staging folder beside the target,
    checked, then renamed into place); offline, with ``download=False``, or for FER2013 (which
    needs a Kaggle account), :class:`DatasetUnavailable` says where the files come from and where
    to put them."""
    ds = _dataset(name)
    target = target_folder(name, root)
    found = ds.check(target)
    if found is not None:
        _warn(found[1])
        return found[0]
    if ds.download is None:
        raise DatasetUnavailable(f"{ds.title} is not in {target}: {ds.by_hand(target)}")
    if not download:
        raise DatasetUnavailable(f"{ds.title} is not in {target} and download=False; to place it by hand, "
                                 f"{ds.by_hand(target)}")
    return _download(ds, target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m labkit.data.fetch",
        description="Put one of the course's datasets into a data folder (or check the copy there) and print its path.")
    parser.add_argument("name", help=f"the dataset: {', '.join(NAMES)}")
    parser.add_argument("root", help="the data folder (MNIST/raw, fruits-360, celeba and fer2013 go in it)")
    parser.add_argument("--no-download", action="store_true", help="check only; never use the network")
    args = parser.parse_args(argv)
    try:
        path = fetch(args.name, args.root, download=not args.no_download)
    except (DatasetUnavailable, ValueError, OSError) as err:  # DatasetCorrupt is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
