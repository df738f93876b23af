"""One chapter end to end on its real dataset, as `course.py build --data` runs it: chapter 002
(the fastest on real data) on the Fruits-360 copy in ../shared/data, with the quick profile.
Its closing table, glued for the results page, must hold values computed on the real photos
of all four fruits, and its page must say which data it used. Skipped without the data."""
import json
import math
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SHARED_DATA

FRUITS = SHARED_DATA / "fruits-360"


def glued(nb: dict) -> dict[str, dict]:
    return {o["metadata"]["scrapbook"]["name"]: o["data"] for c in nb["cells"] for o in c.get("outputs", [])
            if "scrapbook" in o.get("metadata", {})}


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.skipif(not FRUITS.exists(), reason="../shared/data/fruits-360 is absent")
def test_chapter_002_on_real_fruits_end_to_end(tmp_path):
    out = tmp_path / "002.ipynb"
    env = {**os.environ, "LABKIT_RUNS": str(tmp_path / "runs"), "LABKIT_PROGRESS": "text"}
    done = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "002_fruits_dcgan_diffaugment.ipynb"),
                           str(out), "-p", "data_dir", str(FRUITS), "--cwd", str(tmp_path), "--no-progress-bar"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    nb = json.loads(out.read_text())
    g = glued(nb)
    assert set(g) >= {"paper_vs_run", "provenance", "data_used"}
    said = "".join(g["data_used"]["application/papermill.record/text/markdown"])
    assert said.startswith(f"Fruits-360 Training at {FRUITS} (15,210 images, 32x32); Fruits-360 Test at {FRUITS} (5,089 images")
    assert "embedded default" not in said

    table = cells("".join(g["paper_vs_run"]["application/papermill.record/text/html"]))
    for fruit in ("Apple", "Banana", "Grape", "Tomato"):
        fid = float(table[f"{fruit}: FID (fruit classifier)"][-1].split()[0])
        is_ = float(table[f"{fruit}: IS (fruit classifier)"][-1].split()[0])
        assert math.isfinite(fid) and 0 < fid < 200, (fruit, fid)
        assert 1 < is_ < 29, (fruit, is_)
    assert "Apple 6,416, Banana 1,430, Grape 3,419, Tomato 3,945" in table["data"][-1]
    prov = cells("".join(g["provenance"]["application/papermill.record/text/html"]))
    assert "each epoch draws 13.1% of a run's images" in prov["profile"][-1]


def cells(html: str) -> dict[str, list[str]]:
    """A pandas HTML table's rows: the row header → its cells' texts."""
    import re
    from html import unescape

    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        head = re.search(r"<th>(.*?)</th>", row, flags=re.S)
        if head:
            rows[unescape(head.group(1).strip())] = [unescape(c.strip()) for c in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
    return rows
