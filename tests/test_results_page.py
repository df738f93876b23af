"""The run behind every closing table (labkit.report.provenance, data_used, closing), the
results page that gathers them (book/results.md, myst-nb glue), the data banner course.py puts
under each page's title, and which datasets `course.py build --data DIR` hands to each chapter."""
import importlib.util
import json
import sys

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from conftest import ROOT
from labkit import report
from labkit.data.core import ImageSet
from labkit.experiments import fer

import torch


def course():
    spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("course", module)
    spec.loader.exec_module(module)
    return module


def faces(source, n=4):
    return ImageSet(torch.zeros(n, 1, 8, 8), torch.zeros(n, dtype=torch.long), ["Angry"], source)


def test_provenance_names_data_profile_device_time_torch_and_commit():
    P = fer.SPEC.resolve({"data_dir": "/data/fer2013"})
    P["epoch_share"] = 2400 / 28709
    table = report.provenance(P, faces("FER2013 Training from /data/fer2013 (28,709 faces)"),
                              faces("FER2013 PrivateTest from /data/fer2013 (3,589 faces)"), seconds=65.4,
                              device="cpu (2 threads)")
    rows = table["this run"].to_dict()
    assert list(rows) == ["data", "profile", "seed", "device", "wall time", "torch", "commit"]
    assert rows["data"] == "FER2013 Training from /data/fer2013 (28,709 faces); FER2013 PrivateTest from /data/fer2013 (3,589 faces)"
    assert rows["profile"] == "quick; each epoch draws 8.4% of a run's images (epoch_images=2,400)"
    assert rows["device"] == "cpu (2 threads)" and rows["torch"] == torch.__version__
    assert rows["wall time"].endswith(" s") and rows["wall time"] == "1 min 05 s"
    assert len(rows["commit"].split()[0]) >= 7 or rows["commit"].startswith("unknown")


def test_data_used_says_when_a_page_ran_on_the_embedded_default():
    standin = faces("FER2013 stand-in drawn by labkit (2,400 faces, seed 0, label noise 10%)")
    said = report.data_used(fer.SPEC.resolve({}), standin)
    assert said.startswith("FER2013 stand-in drawn by labkit") and "not the paper's full dataset" in said
    real = report.data_used(fer.SPEC.resolve({"data_dir": "x"}), faces("FER2013 Training from x (28,709 faces)"))
    assert real == "FER2013 Training from x (28,709 faces)."


def test_minutes():
    assert report.minutes(65.4) == "1 min 05 s" and report.minutes(9.6) == "10 s" and report.minutes(float("nan")) == "unknown"


def test_closing_and_finished_glue_table_data_and_provenance_and_course_puts_the_data_under_the_title(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter\n\nIts introduction."),
        nbformat.v4.new_code_cell(
            "import torch\nfrom labkit import report\nfrom labkit.data.core import ImageSet\nfrom labkit.experiments import fer\n"
            "P = fer.SPEC.resolve({})\n"
            "s = ImageSet(torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long), ['Angry'], 'FER2013 stand-in drawn by labkit (2 faces)')\n"
            "report.closing(report.paper_table([('accuracy', '60.0%', '41.2%')]), P, s)"),
        nbformat.v4.new_code_cell("import time\nreport.finished(time.perf_counter() - 75, P, s)"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = nb.cells[1].outputs + nb.cells[2].outputs
    glued = {o.metadata["scrapbook"]["name"]: o for o in outputs if "scrapbook" in o.get("metadata", {})}
    assert set(glued) == {"paper_vs_run", "provenance", "data_used"}
    assert "41.2%" in glued["paper_vs_run"].data["application/papermill.record/text/html"]
    assert "<td>1 min 15 s</td>" in glued["provenance"].data["application/papermill.record/text/html"]
    shown = [o for o in outputs if "scrapbook" not in o.get("metadata", {})]
    assert len(shown) == 2 and "41.2%" in shown[0].data["text/html"] and "wall time" in shown[1].data["text/html"]
    # whole sentences: no "..." after pandas' 50 characters
    assert "FER2013 stand-in drawn by labkit (2 faces)" in glued["provenance"].data["application/papermill.record/text/html"]

    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert course().data_banner(path)
    first = json.loads(path.read_text())["cells"][0]["source"]
    assert first.startswith("# A chapter\n\n```{note}\n**Data on this page:** FER2013 stand-in drawn by labkit (2 faces).")
    assert first.endswith("```\n\nIts introduction.")


def test_the_results_page_glues_every_chapters_table_and_provenance():
    text = (ROOT / "book" / "results.md").read_text()
    toc = (ROOT / "_toc.yml").read_text()
    chapters = [p.stem for p in course().chapters() if p.stem[:3].isdigit()]
    assert len(chapters) == 5 and "book/results" in toc
    assert toc.index("book/results") > max(toc.index(c) for c in chapters)  # after the chapters
    for stem in chapters:
        for key in ("paper_vs_run", "provenance"):
            assert f"```{{glue}} {key}\n:doc: /notebooks/{stem}.ipynb\n```" in text


def test_build_data_hands_each_chapter_the_datasets_found(tmp_path):
    c = course()
    nb = {stem: ROOT / "notebooks" / f"{stem}.ipynb" for stem in
          ("000_fer_dcgan_augmentation", "002_fruits_dcgan_diffaugment", "003_fer_dcgan_per_expression", "004_mnist_gans")}
    assert all(c.data_parameters(p, tmp_path) == {} for p in nb.values())  # nothing there: embedded defaults
    (tmp_path / "fer2013.csv").write_text("emotion,pixels,Usage\n")
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "celeba").mkdir()
    assert c.data_parameters(nb["000_fer_dcgan_augmentation"], tmp_path) == {"data_dir": str(tmp_path / "fer2013.csv")}
    assert c.data_parameters(nb["003_fer_dcgan_per_expression"], tmp_path) == {
        "data_dir": str(tmp_path / "fer2013.csv"), "celeba_dir": str(tmp_path / "celeba")}
    assert c.data_parameters(nb["004_mnist_gans"], tmp_path) == {"data_dir": str(tmp_path)}
    assert c.data_parameters(nb["002_fruits_dcgan_diffaugment"], tmp_path) == {}
    (tmp_path / "fer2013").mkdir()  # Kaggle's CSV comes first, then the image-folder copy
    assert c.data_parameters(nb["000_fer_dcgan_augmentation"], tmp_path) == {"data_dir": str(tmp_path / "fer2013.csv")}
    (tmp_path / "fer2013.csv").unlink()
    assert c.data_parameters(nb["000_fer_dcgan_augmentation"], tmp_path) == {"data_dir": str(tmp_path / "fer2013")}
    (tmp_path / "fer2013" / "fer2013.csv").write_text("emotion,pixels,Usage\n")  # where `course.py data` says to put it
    assert c.data_parameters(nb["000_fer_dcgan_augmentation"], tmp_path) == {"data_dir": str(tmp_path / "fer2013" / "fer2013.csv")}
