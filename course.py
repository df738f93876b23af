#!/usr/bin/env python3
"""Build and test the course. Needs only Python 3.10+ with pip; everything else is set up here.

    python course.py build         # set up .venv, run every notebook on its defaults, build the book
    python course.py build --data DIR   # the same on the real datasets in DIR (laid out as
                                   # ../shared/data: MNIST/raw, fer2013/ or fer2013.csv, fruits-360/,
                                   # optionally celeba/); a chapter whose data is absent runs on its
                                   # embedded default, and its page says so
    python course.py test          # unit tests, nbval over every notebook, the offline book build,
                                   # then every page of the book in headless Chromium
    python course.py test --fast   # unit tests only, without the slow ones (while you work)
    python course.py test --real [DIR]  # the tests that use the real datasets, then every chapter
                                   # on them (DIR, default ../shared/data), the book built from those
                                   # runs, and every page in headless Chromium
    python course.py data DIR      # get the datasets into DIR (online): MNIST and Fruits-360 are
                                   # downloaded and checked, FER2013 (a Kaggle account) is checked,
                                   # or what to download and where is said; --celeba adds CelebA
    python course.py setup         # only create or update .venv
    python course.py references    # after a build: store the outputs of "# NBVAL_CHECK_OUTPUT" cells
                                   # as nbval's references, and strip every other output

The environment is a virtualenv in ``.venv`` with the exact versions of
``requirements/lock.txt`` (pip constraints); it is reinstalled only when that file or
``pyproject.toml`` changes. Executed notebooks go to ``_build/executed``, the book to
``_build/html``. Each notebook is executed once per command.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
LOCK = ROOT / "requirements" / "lock.txt"
EXECUTED = ROOT / "_build" / "executed"
RUNS = ROOT / "_build" / "runs"  # checkpoints of build and test runs, fresh each time
STAGE = ROOT / "_build" / "book-src"
HTML = ROOT / "_build" / "_build" / "html"
LOG_LINES = 3    # on the book's pages, a run of this many training-log lines or more is folded,
TEXT_LINES = 40  # and so is other text longer than this


def say(msg: str) -> None:
    print(f"[course] {msg}", flush=True)


def run(*cmd, **kw) -> None:
    say(" ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, cwd=kw.pop("cwd", ROOT), env=kw.pop("env", env()), **kw)


def env(runs: Path | None = None) -> dict[str, str]:
    e = dict(os.environ)
    e["LABKIT_RUNS"] = str(runs or RUNS)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e["VIRTUAL_ENV"] = str(VENV)
    # kernels (nbval, papermill, sweeps) must be this environment's, not a user-wide one
    e["JUPYTER_PATH"] = str(VENV / "share" / "jupyter")
    e.setdefault("LABKIT_PROGRESS", "text")
    e.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return e


def setup() -> None:
    stamp = VENV / ".course-stamp"
    want = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want and PY.exists():
        return
    if sys.version_info < (3, 10):
        sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}")
    if not PY.exists():
        say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-c", LOCK, "-e", ".[course,test,scale]")
    stamp.write_text(want)
    say("environment ready")


def chapters() -> list[Path]:
    """Every notebook the book's table of contents lists, in order."""
    import re

    toc = (ROOT / "_toc.yml").read_text()
    names = re.findall(r"file:\s*(notebooks/[\w\-./]+)", toc)
    paths = [ROOT / (n if n.endswith(".ipynb") else n + ".ipynb") for n in names]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        sys.exit(f"_toc.yml lists notebooks that do not exist: {', '.join(missing)}")
    return paths


def fresh_runs(nb: Path) -> Path:
    """A new, empty run folder per notebook: a build or test never reuses a model trained by
    older code, nor one that another notebook trained."""
    runs = RUNS / nb.stem
    if runs.exists():
        shutil.rmtree(runs)
    runs.mkdir(parents=True)
    return runs


# Seconds each job took on 2 cores with one thread (measured; used only to balance the lanes).
EXPECTED = {"000": 250, "001": 430, "002": 175, "003": 140, "004": 300, "mnist": 50, "unit tests": 510}


def lanes() -> int:
    """How many jobs run at once: 2 where there are at least 2 cores (each with one thread: the
    course's small networks do 60-77% as much work on one thread as on two, so two jobs at once
    finish about 1.3x sooner; two jobs with two threads each on 2 cores would fight for them);
    ``COURSE_LANES`` overrides it (1: one after another, each job with all threads)."""
    if os.environ.get("COURSE_LANES"):
        n = int(os.environ["COURSE_LANES"])
        if n < 1:
            sys.exit(f"COURSE_LANES must be 1 or more; got {n}")
        return n
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def notebook_env(nb: Path) -> dict[str, str]:
    """The environment a chapter's kernel runs in: a fresh run folder, and live progress on this
    terminal (labkit.console: each cell as it starts, training-log lines, a heartbeat every 10 s)."""
    import json

    cells = sum(1 for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
    return {**env(fresh_runs(nb)), "LABKIT_CONSOLE": f"{nb.stem.split('_')[0]}:{cells}"}


def run_jobs(jobs: list[tuple[str, list, dict]]) -> None:
    """Run ``(name, command, environment)`` jobs, ``lanes()`` at a time (longest expected first; a
    lane that finishes takes the next job), and stop with the names of those that failed, once all are done.
    Side by side, each job and its kernels get one thread (torch, OpenMP, MKL; LABKIT_CPUS sizes a
    sweep's worker processes)."""
    import threading

    n = min(lanes(), len(jobs))
    one_thread = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LABKIT_CPUS": "1"} if n > 1 else {}
    expected = lambda job: EXPECTED.get(job[0].split("_")[0], 120)  # noqa: E731
    queue = sorted(jobs, key=expected, reverse=True)
    take = threading.Lock()
    failed: list[str] = []

    def next_job():
        with take:
            return queue.pop(0) if queue else None

    def lane():
        while (job := next_job()) is not None:
            name, cmd, job_env = job
            job_env = {**job_env, **one_thread}
            start = time.perf_counter()
            say(f"{name}: started ({' '.join(str(c) for c in cmd[1:4])} ...)")
            done = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=job_env)
            minutes, seconds = divmod(round(time.perf_counter() - start), 60)
            say(f"{name}: {'passed' if done.returncode == 0 else 'FAILED'} in {minutes} min {seconds:02d} s")
            if done.returncode != 0:
                failed.append(name)

    if n > 1:
        say(f"{len(jobs)} jobs, {n} at once, one thread each (COURSE_LANES=1: one after another)")
    threads = [threading.Thread(target=lane) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


# What each notebook reads from a data folder laid out as ../shared/data: its parameter, and the
# paths to try, first found wins (a path ending in "/" must be a folder).
DATASETS = {
    "000": {"data_dir": ("fer2013/fer2013.csv", "fer2013.csv", "fer2013/")},
    "001": {"data_dir": ("fer2013/fer2013.csv", "fer2013.csv", "fer2013/")},
    "002": {"data_dir": ("fruits-360/",)},
    "003": {"data_dir": ("fer2013/fer2013.csv", "fer2013.csv", "fer2013/"), "celeba_dir": ("celeba/",)},
    "004": {"data_dir": ("MNIST/raw/",)},
    "mnist": {"data_dir": ("MNIST/raw/",)},
}


def data_parameters(nb: Path, data: Path) -> dict[str, str]:
    """The papermill parameters that point ``nb`` at the datasets found in ``data`` (MNIST's
    parameter is the folder holding ``MNIST/raw``). Empty: none of its data is there."""
    found = {}
    for name, candidates in DATASETS.get(nb.stem.split("_")[0], {}).items():
        for rel in candidates:
            path = data / rel.rstrip("/")
            if path.is_dir() if rel.endswith("/") else path.is_file():
                found[name] = str(data if rel == "MNIST/raw/" else path)
                break
    return found


def execute_all(data: Path | None = None) -> None:
    """Run every chapter notebook with papermill into _build/executed: on its defaults, or with
    ``data`` on the real datasets found there (each chapter says on its page which data it used)."""
    jobs = []
    for nb in chapters():
        out = EXECUTED / nb.relative_to(ROOT)
        out.parent.mkdir(parents=True, exist_ok=True)
        params = data_parameters(nb, data) if data is not None else {}
        if data is not None:
            say(f"{nb.stem}: " + (", ".join(f"{k}={v}" for k, v in params.items()) if params
                                  else f"none of its data is in {data}: its embedded default"))
        cmd = [PY, "-m", "papermill", nb, out, "--cwd", nb.parent, "--no-progress-bar"]
        for k, v in params.items():
            cmd += ["-p", k, v]
        jobs.append((nb.stem, cmd, notebook_env(nb)))
    run_jobs(jobs)


# Training-log lines as labkit's trainers (and most loops) print them: "G: epoch 3/30 ...",
# "step 200/1000", "[labkit] ...", a progress bar's "40%|".
LOG_LINE = r"\bepoch\s*\d+\s*/\s*\d+|\bstep\s*\d+\s*/\s*\d+|^\s*\[labkit\]|\d+%\|"


def fold_logs(nb_path: Path, min_log_lines: int = LOG_LINES, max_text_lines: int = TEXT_LINES) -> int:
    """Fold the training logs of a staged notebook for the book (the chapter itself is untouched).

    In every text output (stdout or stderr, consecutive pieces merged), each run of at least
    ``min_log_lines`` training-log lines (``LOG_LINE``) becomes a closed
    ``<details class="course-log">`` whose summary gives its length and last line; the text
    around it (a table, a result) stays as it is, in place, and so do figures and tables in
    other outputs. Text of more than ``max_text_lines`` lines that is not a log is folded the
    same way. Returns how many blocks were folded."""
    import html
    import json
    import re

    log_line = re.compile(LOG_LINE, re.IGNORECASE)
    nb = json.loads(nb_path.read_text())
    text = lambda o: "".join(o["text"]) if isinstance(o["text"], list) else o["text"]  # noqa: E731
    folded = 0

    def fold(lines: list[str], kind: str) -> dict:
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        last = last if len(last) <= 90 else last[:87] + "..."
        summary = f"{kind}, {len(lines)} lines" + (f"; last: <code>{html.escape(last)}</code>" if last else "")
        body = html.escape("\n".join(lines))
        return {"output_type": "display_data", "metadata": {},
                "data": {"text/html": f'<details class="course-log"><summary>{summary}</summary><pre>{body}</pre></details>',
                         "text/plain": "\n".join(lines)}}

    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or not cell.get("outputs"):
            continue
        merged: list[dict] = []
        for o in cell["outputs"]:
            if o["output_type"] == "stream" and merged and merged[-1]["output_type"] == "stream" \
                    and merged[-1]["name"] == o["name"]:
                merged[-1] = {**merged[-1], "text": text(merged[-1]) + text(o)}
            else:
                merged.append(o)
        outputs: list[dict] = []
        for o in merged:
            if o["output_type"] != "stream":
                outputs.append(o)
                continue
            # what a terminal would show: no colour codes, a carriage return rewrites its line
            plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text(o))
            lines = [line.rsplit("\r", 1)[-1] for line in plain.rstrip("\n").split("\n")]
            # runs of log lines (blank lines inside a run belong to it) and the text between them
            runs: list[tuple[bool, list[str]]] = []
            for line in lines:
                is_log = bool(log_line.search(line)) or (not line.strip() and bool(runs) and runs[-1][0])
                if runs and runs[-1][0] == is_log:
                    runs[-1][1].append(line)
                else:
                    runs.append((is_log, [line]))
            pieces: list[tuple[str, list[str]]] = []  # ("log" | "text", lines), neighbours of one kind merged
            for is_log, run in runs:
                kind = "log" if is_log and sum(1 for line in run if line.strip()) >= min_log_lines else "text"
                if pieces and pieces[-1][0] == kind == "text":
                    pieces[-1][1].extend(run)
                else:
                    pieces.append((kind, run))
            if all(kind == "text" for kind, _ in pieces) and len(lines) <= max_text_lines:
                outputs.append(o)
                continue
            for kind, run in pieces:
                if kind == "log" or len(run) > max_text_lines:
                    outputs.append(fold(run, "training log" if kind == "log" else "output"))
                    folded += 1
                elif any(line.strip() for line in run):
                    outputs.append({"output_type": "stream", "name": o["name"], "text": "\n".join(run) + "\n"})
        cell["outputs"] = outputs
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return folded


def data_banner(nb_path: Path) -> bool:
    """Put, under the page's title, the sentence the chapter glued as ``data_used``
    (:func:`labkit.report.closing`): which data this page's numbers came from, and on an embedded
    default that it is not the paper's dataset. False: the notebook glued none."""
    import json

    nb = json.loads(nb_path.read_text())
    text = None
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o.get("metadata", {}).get("scrapbook", {}).get("name") == "data_used":
                data = o.get("data", {})
                text = next((v for k, v in data.items() if k.endswith("text/markdown")), None)
    if text is None:
        return False
    text = "".join(text) if isinstance(text, list) else text
    banner = f"```{{note}}\n**Data on this page:** {text.strip()}\n```\n"
    first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    source = "".join(first["source"]) if isinstance(first["source"], list) else first["source"]
    title, _, rest = source.partition("\n")  # the page's "# title" line, then the rest of the cell
    first["source"] = f"{title}\n\n{banner}\n{rest.lstrip(chr(10))}"
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


def build_book() -> None:
    """Build the HTML book from the executed notebooks (no execution here), failing on warnings."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, STAGE / name)
    shutil.copytree(ROOT / "book", STAGE / "book")
    for nb in chapters():
        src = EXECUTED / nb.relative_to(ROOT)
        if not src.exists():
            sys.exit(f"{src} is missing: run the notebooks first (python course.py build)")
        (STAGE / nb.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, STAGE / nb.relative_to(ROOT))
        fold_logs(STAGE / nb.relative_to(ROOT))
        if not data_banner(STAGE / nb.relative_to(ROOT)) and nb.stem[:3].isdigit():
            sys.exit(f"{src}: no 'data_used' glued (its closing cell calls labkit.report.closing): "
                     f"the page could not say which data it used")
    # executed copies carry their outputs: the book must not run them again
    cfg = (STAGE / "_config.yml").read_text()
    cfg = cfg.replace('execute_notebooks: "cache"', 'execute_notebooks: "off"')
    (STAGE / "_config.yml").write_text(cfg)
    out = ROOT / "_build"
    # --all: the results page glues values from the chapters, a dependency Sphinx does not track,
    # so every page is built afresh
    run(BIN / "jupyter-book", "build", STAGE, "--path-output", out, "-W", "-n", "--keep-going", "--all")
    say(f"book: {HTML / 'index.html'}")


def browser_setup() -> None:
    """Chromium for tests/test_book_browser.py (Playwright, the Python package, comes with the
    lock). Installed from Debian when missing and this runs as root; otherwise the test says
    what to install (and fails under CI, where it must run)."""
    if os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            run("apt-get", "update", "-qq", env=apt)
            run("apt-get", "install", "-y", "-qq", "chromium", env=apt)
            return
        except subprocess.CalledProcessError:
            pass  # the test says what is missing
    say("Chromium is missing (the browser test needs it): install the chromium package, "
        "or set CHROMIUM to a Chrome or Chromium executable")


def check_book_in_browser() -> None:
    """Open every page of the built book in headless Chromium (tests/test_book_browser.py)."""
    browser_setup()
    run(PY, "-m", "pytest", "-q", "tests/test_book_browser.py", "-m", "browser", "-p", "no:cacheprovider",
        env={**env(), "BOOK_HTML": str(HTML)})


def build(data: Path | None = None) -> None:
    if data is not None and not data.is_dir():
        sys.exit(f"--data {data}: no such folder (expected one laid out as ../shared/data: MNIST/raw, "
                 f"fer2013/ or fer2013.csv, fruits-360/, optionally celeba/)")
    setup()
    execute_all(data)
    build_book()


def test(fast: bool, real: Path | None = None) -> None:
    setup()
    if real is not None:
        if not real.is_dir():
            sys.exit(f"--real {real}: no such folder (expected one laid out as ../shared/data)")
        run(PY, "-m", "pytest", "tests", "-q", "-m", "realdata", "-p", "no:cacheprovider",
            env={**env(), "LABKIT_SHARED_DATA": str(real)})
        execute_all(real)
        build_book()
        check_book_in_browser()
        return
    if fast:
        run(PY, "-m", "pytest", "tests", "-q", "-m", "not slow and not realdata and not browser")
        return
    # the unit tests and nbval over every notebook, as jobs in lanes (see lanes()); nbval executes
    # each notebook once and (conftest.py) keeps the executed copy for the book; -s lets the
    # kernel's live progress (labkit.console) through to this terminal
    jobs = [("unit tests", [PY, "-m", "pytest", "tests", "-q", "-m", "not browser", "-p", "no:cacheprovider"], env())]
    for nb in chapters():
        jobs.append((nb.stem, [PY, "-m", "pytest", "-q", "-s", "--nbval", nb.relative_to(ROOT), "--nbval-current-env",
                               "--nbval-cell-timeout", "1800", "-p", "no:cacheprovider"], notebook_env(nb)))
    run_jobs(jobs)
    build_book()
    check_book_in_browser()


def get_data(folder: Path, celeba: bool) -> None:
    """Put the course's datasets into ``folder`` (labkit.data.fetch: checked copies are kept,
    missing ones downloaded where their source allows); says what could not be had and why,
    and goes on with the next."""
    setup()
    missing = []
    for name in ("mnist", "fruits-360", "fer2013") + (("celeba",) if celeba else ()):
        done = subprocess.run([str(PY), "-m", "labkit.data.fetch", name, str(folder)], cwd=ROOT, env=env())
        if done.returncode != 0:
            missing.append(name)
    say(f"datasets in {folder}" + (f"; not there: {', '.join(missing)} (see above)" if missing else ": all there")
        + f". Build on them: python course.py build --data {folder}")


def references() -> None:
    """Copy the outputs of checked cells from _build/executed into the source notebooks and
    clear all other outputs, so the sources hold nbval's references and nothing else."""
    import json

    for nb_path in chapters():
        executed = EXECUTED / nb_path.relative_to(ROOT)
        if not executed.exists():
            sys.exit(f"{executed} is missing: run python course.py build first")
        src, run_nb = json.loads(nb_path.read_text()), json.loads(executed.read_text())
        text = lambda c: "".join(c["source"]) if isinstance(c["source"], list) else c["source"]  # noqa: E731
        ran = {text(c): (i + 1, c) for i, c in enumerate(c for c in run_nb["cells"] if c["cell_type"] == "code")}
        kept = 0
        for c in (c for c in src["cells"] if c["cell_type"] == "code"):
            if text(c).startswith("# NBVAL_CHECK_OUTPUT"):
                if text(c) not in ran:
                    sys.exit(f"{executed} has no run of this checked cell of {nb_path.name}: build again\n{text(c)[:200]}")
                count, r = ran[text(c)]
                c["outputs"], c["execution_count"], kept = r["outputs"], count, kept + 1
                for o in c["outputs"]:
                    if "execution_count" in o:
                        o["execution_count"] = count
            else:
                c["outputs"], c["execution_count"] = [], None
            c.get("metadata", {}).pop("papermill", None)
            c.get("metadata", {}).pop("execution", None)
        src.get("metadata", {}).pop("papermill", None)
        nb_path.write_text(json.dumps(src, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        say(f"{nb_path.name}: {kept} reference output(s) stored")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "test", "setup", "references", "data"):
        print(__doc__)
        return 2
    start = time.perf_counter()
    if argv[0] == "setup":
        setup()
    elif argv[0] == "data":
        folders = [a for a in argv[1:] if not a.startswith("--")]
        if len(folders) != 1:
            sys.exit("python course.py data DIR [--celeba]: one folder to put the datasets in")
        get_data(Path(folders[0]).expanduser().resolve(), celeba="--celeba" in argv[1:])
    elif argv[0] == "references":
        references()
    elif argv[0] == "build":
        data = None
        if "--data" in argv[1:]:
            i = argv.index("--data")
            if i + 1 >= len(argv):
                sys.exit("--data needs a folder: python course.py build --data DIR")
            data = Path(argv[i + 1]).expanduser().resolve()
        build(data)
    else:
        real = None
        if "--real" in argv[1:]:
            i = argv.index("--real")
            given = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else None
            real = Path(given).expanduser().resolve() if given else ROOT.parent / "shared" / "data"
        test(fast="--fast" in argv[1:], real=real)
    say(f"{argv[0]} finished in {(time.perf_counter() - start) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
