"""Property-based tests of the FER2013 loaders (CSV and image folders) and the MNIST idx reader,
beside the hand-written cases of test_bad_input.py: whatever the input, a loader returns exactly
what the file holds, or stops with an error that names the file.

Each example is written into a fresh folder of pytest's (tmp_path_factory); parsed sets are
cached under the test's tmp_path (conftest sets LABKIT_CACHE)."""
import csv
import gzip
import io
import tempfile
import warnings
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from labkit.data.fer2013 import CLASSES, read_fer2013
from labkit.data.mnist import read_idx
from test_data import write_idx

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
USAGES = ["Training", "PublicTest", "PrivateTest"]
EMOTIONS = [c.lower() for c in CLASSES]


def holds_or_names(load, path, expected):
    """``load(path)`` against ``expected``, what the input holds (None when it is malformed): a
    returned value must equal it; an error must name ``path``. Returns the warnings given, or
    None after an error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got = load(path)
        except (ValueError, FileNotFoundError) as err:
            assert str(path) in str(err), f"the error does not name the file: {err}"
            assert expected is None, f"refused a well-formed input: {err}"
            event("refused")
            return None
    event("loaded")
    assert expected is not None, f"accepted a malformed input, returning {got}"
    assert got == expected
    return [str(w.message) for w in caught]


# --- the CSV --------------------------------------------------------------------------------------

token = st.one_of(st.integers(0, 255).map(str), st.text(max_size=3),
                  st.sampled_from(["1_2", "\u0663", "+5", "-1", "1.0", "256", "0x1", "", ",", '"', "\n"]))


def mostly(good, bad):
    """``good`` nine times in ten, else ``bad``, so that many examples are well-formed
    (``one_of`` would draw each half the time)."""
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda ok: good if ok else bad)


@st.composite
def pixels(draw) -> str:
    """2,304 grey levels, or nearly: a token may be junk, or the count one off."""
    values = [str(draw(st.integers(0, 255)))] * (2304 + draw(mostly(st.just(0), st.sampled_from([-1, 1]))))
    for _ in range(draw(mostly(st.just(0), st.integers(1, 2)))):
        values[draw(st.integers(0, len(values) - 1))] = draw(token)
    space = st.sampled_from(["", " ", "\t", "\u00a0"])
    return draw(space) + draw(st.sampled_from([" ", "  ", "\t"])).join(values) + draw(space)


@st.composite
def csv_file(draw) -> tuple[str, bytes]:
    """A file name and the bytes of a CSV, often well-formed: fields, pixel strings, blank rows,
    line ends, encodings, truncation and gzip are drawn."""
    emotion = mostly(st.integers(0, 6).map(str), st.text(max_size=2))
    usage = mostly(st.sampled_from(USAGES), st.text(max_size=11))
    row = mostly(st.tuples(emotion, pixels(), usage).map(list), st.lists(st.text(max_size=4), max_size=4))
    rows = draw(st.lists(mostly(row, st.sampled_from([[], ["", "", ""]])), min_size=1, max_size=4))
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"]))).writerows(rows)
    header = draw(mostly(st.sampled_from(["emotion,pixels,Usage", " emotion , pixels,Usage"]),
                         st.sampled_from(["emotion;pixels;Usage", "Emotion,pixels,Usage", ""])))
    text = header + "\n" + out.getvalue() + draw(st.sampled_from(["", "\n", "\n\n"]))
    encoding = draw(mostly(st.sampled_from(["utf-8", "utf-8-sig"]), st.sampled_from(["latin-1", "utf-16"])))
    data = text.encode(encoding, errors="replace")
    if draw(mostly(st.just(False), st.just(True))):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        data = gzip.compress(data)
        if draw(mostly(st.just(False), st.just(True))):
            data = data[: draw(st.integers(0, len(data)))]
    return draw(st.sampled_from(["fer2013.csv", "fer2013.csv.gz", "données FER.csv"])), data


def csv_holds(data: bytes) -> list[tuple[int, str]] | None:
    """(label, usage) of each row of a CSV file by the loader's documented rules, read with the
    standard library's own readers; None when the file is malformed."""
    try:
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(f.strip() for f in r)]
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error):
        return None
    if len(rows) < 2 or [h.strip() for h in rows[0]][:3] != ["emotion", "pixels", "Usage"]:
        return None
    held = []
    for r in rows[1:]:
        if len(r) != 3 or r[0].strip() not in {str(i) for i in range(7)} or r[2].strip() not in USAGES:
            return None
        values = r[1].split()
        if len(values) != 2304 or not all(v.isascii() and v.isdigit() and int(v) <= 255 for v in values):
            return None
        held.append((int(r[0]), r[2].strip()))
    return held


def labels_and_splits(path) -> list[tuple[int, str]]:
    _, y, usage = read_fer2013(path)
    return list(zip(y.tolist(), usage))


@FAST
@given(csv_file())
def test_csv_loader_returns_what_the_file_holds_or_names_the_file(tmp_path_factory, name_and_data):
    name, data = name_and_data
    path = tmp_path_factory.mktemp("csv") / name
    path.write_bytes(data)
    expected = csv_holds(data)
    holds_or_names(labels_and_splits, path, expected)
    holds_or_names(labels_and_splits, path, expected)  # the second time from the cache


@FAST
@given(st.sampled_from([b"", b"\x1f\x8b", b"\xef\xbb\xbfemotion,pixels,Usage\n", b"PK\x03\x04"]), st.binary(max_size=300))
def test_csv_loader_names_the_file_whatever_its_bytes(tmp_path_factory, start, data):
    path = tmp_path_factory.mktemp("csv") / "fer2013.csv"
    path.write_bytes(start + data)
    holds_or_names(labels_and_splits, path, None)  # 300 bytes cannot hold a row of 2,304 pixels


# --- the image folders ----------------------------------------------------------------------------

GOOD = ["grey", "rgb", "16-bit", "jpeg"]
BAD = ["wrong size", "junk bytes", "truncated", "text file"]


def write_file(folder: Path, name: str, kind: str, level: int) -> None:
    """A 48x48 face of grey ``level`` as ``kind`` says, or a broken one, or a hidden file."""
    if kind == "hidden":
        (folder / f".{name}").write_bytes(b"x")
        return
    image = {"rgb": Image.new("RGB", (48, 48), (level,) * 3), "wrong size": Image.new("L", (48, 40), level),
             "16-bit": Image.fromarray(np.full((48, 48), level * 257, np.uint16))}.get(kind, Image.new("L", (48, 48), level))
    encoded = io.BytesIO()
    image.save(encoded, "JPEG" if kind == "jpeg" else "PNG")
    data = {"junk bytes": b"<html>404</html>", "truncated": encoded.getvalue()[: len(encoded.getvalue()) // 2],
            "text file": b"notes"}.get(kind, encoded.getvalue())
    (folder / f"{name}.{'txt' if kind == 'text file' else 'jpg' if kind == 'jpeg' else 'png'}").write_bytes(data)


def folds_case() -> bool:
    """Whether this file system takes ``Train`` and ``train`` for one folder (macOS, Windows)."""
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "a").mkdir()
        return (Path(d) / "A").exists()


CASE_TWINS = [] if folds_case() else ["Train", "Happy"]  # folders that differ from another only by case
files = st.lists(st.tuples(st.sampled_from(["", "Training_", "PublicTest_", "PrivateTest_"]),
                           st.sampled_from(GOOD * 4 + BAD + ["hidden"]), st.integers(0, 255)), max_size=3)
emotion_folders = st.dictionaries(st.sampled_from(EMOTIONS + CASE_TWINS[1:] + ["joy"]), files, max_size=3)


def folder_holds(tree: dict) -> Counter | None:
    """(label, split, grey level) of each image of ``tree`` by the loader's documented rules; None
    when the tree is malformed."""
    tops = [t for t in tree if t.lower() in ("train", "test")]
    if not tops or len({t.lower() for t in tops}) < len(tops):
        return None
    held = Counter()
    for top in tops:
        if any(e not in EMOTIONS for e in tree[top] if e != "Happy") or {"happy", "Happy"} <= set(tree[top]):
            return None
        for emotion, entries in tree[top].items():
            for i, (prefix, kind, level) in enumerate(entries):
                if kind in BAD:
                    return None
                if kind != "hidden":
                    split = prefix[:-1] or ("Training" if top.lower() == "train" else "Test")
                    held[(EMOTIONS.index(emotion.lower()), split, level)] += 1
    return held or None


def loaded(root) -> Counter:
    x, y, usage = read_fer2013(root)
    return Counter(zip(y.tolist(), usage, x[:, 0, 0].tolist()))


@settings(FAST, max_examples=30)
@given(st.dictionaries(st.sampled_from(["train", "test", "val"] + CASE_TWINS[:1]), emotion_folders, max_size=3))
def test_folder_loader_returns_what_the_folders_hold_or_names_the_problem(tmp_path_factory, tree):
    root = tmp_path_factory.mktemp("fer")
    for top, emotions in tree.items():
        (root / top).mkdir()
        for emotion, entries in emotions.items():
            (root / top / emotion).mkdir()
            for i, (prefix, kind, level) in enumerate(entries):
                write_file(root / top / emotion, f"{prefix}{i}", kind, level)
    said = holds_or_names(loaded, root, folder_holds(tree))
    for top, emotions in tree.items() if said is not None else ():  # what is not read is named
        unread = [root / top] if top == "val" else [root / top / e for e, entries in emotions.items()
                                                     if all(kind == "hidden" for _, kind, _ in entries)]
        assert all(any(f"{p}:" in line for line in said) for p in unread), said


# --- MNIST's idx files ------------------------------------------------------------------------

damage = st.one_of(st.tuples(st.just("cut"), st.integers(0, 400)), st.tuples(st.just("add"), st.binary(min_size=1, max_size=8)))


@FAST
@given(st.booleans(), damage)
def test_idx_reader_returns_the_array_or_names_the_file(tmp_path_factory, compress, damage):
    path = tmp_path_factory.mktemp("idx") / ("images.gz" if compress else "images")
    images = (np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256).astype(np.uint8)
    write_idx(path, images, compress)
    whole = path.read_bytes()
    how, what = damage
    path.write_bytes(whole[: min(what, len(whole) - 1)] if how == "cut" else whole + what)
    try:  # what the file holds: the same idx bytes (gzip allows zero padding after its end), or nothing
        same = (gzip.decompress(path.read_bytes()) == gzip.decompress(whole)) if compress else False
    except (OSError, EOFError, zlib.error):
        same = False
    try:
        got = read_idx(path)
    except ValueError as err:
        assert str(path) in str(err) and not same, err
        return
    assert same and np.array_equal(got, images)
