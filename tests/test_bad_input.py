"""Malformed input as a new user meets it: every loader error names the file (and the row where
there is one) and says what was expected; nothing is silently dropped, misread or overwritten;
a broken or unwritable dataset cache never stops a load."""
import os
import pickle
import warnings

import pytest
import torch

from labkit.data.fer2013 import read_fer2013
from test_fer2013 import folder, row, write_csv

ROWS = [row(0), row(3, usage="PublicTest"), row(6, usage="PrivateTest")]


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
