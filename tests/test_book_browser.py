"""Every page of the built book, opened from disk in headless Chromium.

For each HTML page of the book (``$BOOK_HTML``, default ``_build/_build/html``) the test checks that

- no request leaves the book's folder (the book works offline), and every file it asks for exists;
- the console shows no error and no script throws;
- every widget view has rendered its controls (the vendored widget manager works);
- every maths block is typeset by MathJax, with no TeX error and no raw ``$$`` / ``\\(`` left;
- every image has loaded (``naturalWidth > 0``);
- every exercise solution (an admonition titled "Solution") is a dropdown, folded by default, and
  every folded training log is closed;

and saves a full-page screenshot under ``_build/screenshots/`` (``$BOOK_SCREENSHOTS``).

``python course.py test`` runs it after building the book (and installs Chromium from Debian when
it is missing and runs as root). Run alone: ``.venv/bin/python -m pytest tests/test_book_browser.py
-m browser``. It needs the Python package ``playwright`` (in the lock; never ``playwright install``:
it drives the system's Chromium, ``/usr/bin/chromium`` or ``$CHROMIUM``). Where Chromium, Playwright
or the book is missing it is skipped with what to do, except under CI (``CI=true``), where it fails.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "_build" / "html")).resolve()
SHOTS = Path(os.environ.get("BOOK_SCREENSHOTS", ROOT / "_build" / "screenshots")).resolve()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio"]
TIMEOUT_MS = 30_000


def _cannot_run(why: str) -> None:
    if IN_CI:
        pytest.fail(f"the browser test must run under CI: {why}", pytrace=False)
    pytest.skip(why)


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    _cannot_run("Chromium is missing: `apt-get install chromium` (Debian/Ubuntu; `python course.py test` "
                "does it when run as root), or set CHROMIUM=/path/to/chrome")
    raise AssertionError  # not reached


def _pages() -> list[Path]:
    if not (BOOK / "index.html").exists():
        return []
    return sorted(p for p in BOOK.rglob("*.html") if not p.relative_to(BOOK).parts[0].startswith("_"))


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _cannot_run("the Python package playwright is missing: `python course.py setup` "
                    "(or `.venv/bin/pip install -c requirements/lock.txt playwright`); "
                    "no `playwright install` is needed, the test uses the system's Chromium")
    executable = _chromium()
    with tempfile.TemporaryDirectory(prefix="book-browser-") as profile, sync_playwright() as pw:
        # a fresh profile each run; launch_persistent_context is Playwright's way to pass one
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        try:
            yield context
        finally:
            context.close()


# The checks run in the page, after load, MathJax and the widget manager have had their turn.
_SETTLE = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  const deadline = Date.now() + 20000;
  const rendered = () => [...views].every(v => {
      const area = v.previousElementSibling;
      return area && area.classList.contains('widget-subarea') && area.querySelector('.jupyter-widgets');
  });
  while (views.length && !rendered() && Date.now() < deadline) { await new Promise(r => setTimeout(r, 200)); }
  for (const img of document.images) { img.loading = 'eager'; }
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  await document.fonts.ready;
}"""

_INSPECT = """() => {
  const problems = [];
  const short = el => (el.outerHTML || '').slice(0, 160);
  // widgets
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const state = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  if (views.length && !state) {
    problems.push(`${views.length} widget view(s) but no saved widget state: the notebook was executed ` +
                  `without storing it (nbclient/papermill store it; nbval does not)`);
  }
  views.forEach((v, i) => {
    const area = v.previousElementSibling;
    const ok = area && area.classList.contains('widget-subarea') &&
               [...area.querySelectorAll('.jupyter-widgets')].some(w => w.getBoundingClientRect().width > 0);
    if (!ok) problems.push(`widget view ${i + 1} of ${views.length} did not render (model ${JSON.parse(v.textContent).model_id})`);
  });
  // maths
  const maths = [...document.querySelectorAll('.math, div.math, span.math')];
  const untypeset = maths.filter(m => !m.querySelector('mjx-container'));
  if (untypeset.length) problems.push(`${untypeset.length} of ${maths.length} maths elements not typeset, e.g. ${short(untypeset[0])}`);
  const errors = document.querySelectorAll('mjx-merror, .MathJax_Error');
  if (errors.length) problems.push(`${errors.length} TeX error(s) in maths, e.g. ${errors[0].textContent.slice(0, 120)}`);
  const main = document.querySelector('main, article, .bd-article') || document.body;
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, script, style, textarea, .highlight, mjx-container')) continue;
    const t = n.textContent;
    // $$, \\( or \\[ left over, or $...$ around TeX (a backslash, ^, _ or a brace: not a price)
    if (t.includes('$$') || t.includes('\\\\(') || t.includes('\\\\[') || /\\$[^$\\n]*[\\\\^_{}][^$\\n]*\\$/.test(t)) {
      problems.push(`raw TeX left in the text: ${t.trim().slice(0, 120)}`);
      break;
    }
  }
  // images
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) problems.push(`image not loaded: ${img.currentSrc || img.src || short(img)}`.slice(0, 200));
  }
  // exercises: a solution is a dropdown, folded; folded logs are closed
  for (const adm of document.querySelectorAll('.admonition')) {
    const title = adm.querySelector('.admonition-title');
    if (!title || !/^\\s*solution/i.test(title.textContent)) continue;
    if (!adm.classList.contains('dropdown')) { problems.push(`a solution that does not fold (add ":class: dropdown"): ${title.textContent.trim()}`); continue; }
    const shown = [...adm.children].filter(c => c !== title &&
        c.checkVisibility({visibilityProperty: true, opacityProperty: true}) && c.getBoundingClientRect().height > 0);
    if (!adm.classList.contains('toggle-hidden') || shown.length) problems.push(`a solution shown by default: ${title.textContent.trim()}`);
  }
  for (const log of document.querySelectorAll('details.course-log')) {
    if (log.open) problems.push('a training log is open by default');
  }
  return {problems, views: views.length, maths: maths.length, images: document.images.length,
          solutions: document.querySelectorAll('.admonition.dropdown').length,
          logs: document.querySelectorAll('details.course-log').length};
}"""


def _inside_book(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    if parsed.scheme != "file":
        return False
    try:
        Path(unquote(parsed.path)).resolve().relative_to(BOOK)
        return True
    except ValueError:
        return False


def _settle_and_inspect(tab) -> dict:
    """Run the checks once the page has settled; a redirecting page (the book's index.html) is
    checked where it lands."""
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            tab.evaluate(_SETTLE)
            tab.wait_for_timeout(300)  # late console messages
            return tab.evaluate(_INSPECT)
        except Error as err:
            if "context was destroyed" not in str(err) or attempt == 2:
                raise
            tab.wait_for_load_state("load", timeout=TIMEOUT_MS)
    raise AssertionError  # not reached


@pytest.mark.browser
@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(BOOK)))
def test_page(browser, page: Path):
    outside, failed, console, thrown = [], [], [], []
    tab = browser.new_page()

    def on_request(req):
        if not _inside_book(req.url):
            outside.append(req.url)

    tab.on("request", on_request)
    tab.on("requestfailed", lambda req: failed.append(f"{req.url} ({req.failure})"))
    tab.on("console", lambda msg: console.append(f"{msg.text} [{msg.location.get('url', '')}]")
           if msg.type == "error" else None)
    tab.on("pageerror", lambda err: thrown.append(str(err)))
    # nothing may reach the network, even if the book asked for it
    tab.route("http://*/**", lambda route: route.abort())
    tab.route("https://*/**", lambda route: route.abort())
    try:
        tab.goto(page.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        found = _settle_and_inspect(tab)
        shot = SHOTS / page.relative_to(BOOK).with_suffix(".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(shot), full_page=True)
    finally:
        tab.close()

    problems = [f"request outside the book's folder: {u}" for u in outside]
    problems += [f"a request failed: {f}" for f in failed if _inside_book(f.split(" (")[0])]
    problems += [f"console error: {c}" for c in console]
    problems += [f"uncaught script error: {t}" for t in thrown]
    problems += found["problems"]
    assert not problems, f"{page.relative_to(BOOK)}:\n  " + "\n  ".join(problems)


@pytest.mark.browser
def test_the_book_is_there():
    """Without this, a missing book would only show as an empty parametrisation."""
    if not (BOOK / "index.html").exists():
        _cannot_run(f"no built book at {BOOK}: build it first (`python course.py build`, "
                    f"or set BOOK_HTML to a built book's html folder)")
    assert len(_pages()) > 1


def test_training_logs_fold_and_tables_and_figures_stay(tmp_path):
    """course.py's book build folds training logs in its staged copy (runs with the unit tests)."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)

    stream = lambda name, text: {"output_type": "stream", "name": name, "text": text}  # noqa: E731
    figure = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}
    log = [f"G<{i}>: epoch {i}/20  loss_D 0.{i}  (0.1 s)\n" for i in range(1, 21)]
    table = "class  count\nAngry    491\nHappy    879\n"
    cells = [
        # a short print, a figure, then one stream in two pieces: a log (with a progress bar's
        # carriage returns and colours) and a table after it; a warning on stderr
        [stream("stdout", "training 2 models\n"), figure,
         stream("stdout", log[:10]), stream("stdout", "".join(log[10:19]) + "\x1b[32m 50%|##   \rG<20>: epoch 20/20 done\x1b[0m\n" + table),
         stream("stderr", "a warning\n")],
        [stream("stdout", "".join(log[:2]) + table)],          # two log lines: left alone
        [stream("stdout", "".join(f"row {i}\n" for i in range(50)))],  # long text that is not a log
    ]
    path = tmp_path / "nb.ipynb"
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "execution_count": i, "outputs": outs}
                    for i, outs in enumerate(cells, 1)] + [{"cell_type": "markdown", "source": "text", "metadata": {}}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))

    assert course.fold_logs(path, min_log_lines=3, max_text_lines=40) == 2
    first, second, third = (c["outputs"] for c in json.loads(path.read_text())["cells"][:3])
    assert first[0] == stream("stdout", "training 2 models\n")       # short text: as it was
    assert first[1] == figure                                          # figures stay, in place
    log_html = first[2]["data"]["text/html"]
    assert first[2]["output_type"] == "display_data"
    assert log_html.startswith('<details class="course-log"><summary>training log, 20 lines') and " open" not in log_html
    assert "G&lt;1&gt;: epoch 1/20" in log_html and "50%" not in log_html and "\x1b" not in log_html
    assert "last: <code>G&lt;20&gt;: epoch 20/20 done</code>" in log_html
    assert first[3] == stream("stdout", table)                         # the table after the log stays
    assert first[4] == stream("stderr", "a warning\n")
    assert second == cells[1]
    assert third[0]["data"]["text/html"].startswith('<details class="course-log"><summary>output, 50 lines')


@pytest.mark.browser
def test_every_chapter_says_its_data_and_the_results_page_gathers_every_closing_table():
    """Each chapter page carries, under its title, the note naming the data its numbers came from
    (course.py puts it there from the chapter's glued ``data_used``), and the results page shows
    each of the five chapters' "paper reported | this run" tables and the run behind it."""
    import re

    if not (BOOK / "index.html").exists():
        _cannot_run(f"no built book at {BOOK}: build it first")
    chapters = sorted((BOOK / "notebooks").glob("00[0-4]_*.html"))
    assert len(chapters) == 5
    for page in chapters:
        html = page.read_text()
        assert "Data on this page:" in html, f"{page.name}: no data note"
        assert html.index("Data on this page:") < html.index('class="cell '), f"{page.name}: the note is not at the top"
    results = (BOOK / "book" / "results.html").read_text()
    assert len(re.findall(r"<th[^>]*>paper reported</th>", results)) == 5
    assert len(re.findall(r"<th[^>]*>wall time</th>", results)) == 5
    assert len(re.findall(r"<th[^>]*>commit</th>", results)) == 5
