"""Small Sphinx fixes so that every page of the book loads without a console error
(tests/test_book_browser.py checks it). Loaded through ``sphinx.local_extensions`` in _config.yml.

- sphinx-thebe adds its settings as an inline script (``const THEBE_JS_URL = ...``) after the HTML
  builder has started, and Sphinx 7.4 then writes that script twice on every page: the second
  ``const`` throws "Identifier 'THEBE_JS_URL' has already been declared". The course has no Thebe
  (live code) button, so its scripts are left out while ``launch_buttons: thebe`` is off.
- pydata-sphinx-theme logs "Got invalid theme mode" on a first visit unless a default colour mode
  is set: the default here is ``auto`` (follow the reader's system).

It also defines the citation style ``author_year_round`` (``bibtex_reference_style``): author-year
in round brackets, "Goodfellow et al. (2014)" and "(Goodfellow et al., 2014)", the way a reader
writes them in a notebook too.
"""
from __future__ import annotations

import dataclasses

from sphinx.application import Sphinx
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclasses.dataclass
class RoundAuthorYearStyle(AuthorYearReferenceStyle):
    bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_textual: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_author: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_label: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_year: BracketStyle = dataclasses.field(default_factory=_round)


register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearStyle)


def _thebe_off(app: Sphinx) -> None:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    if launch.get("thebe"):
        return
    for listener in list(app.events.listeners.get("env-before-read-docs", [])):
        if getattr(listener.handler, "__module__", "") == "sphinx_thebe" and listener.handler.__name__ == "init_thebe_core":
            app.disconnect(listener.id)


def _default_mode(app: Sphinx, config) -> None:
    config.html_context.setdefault("default_mode", "auto")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _default_mode)
    app.connect("builder-inited", _thebe_off)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
