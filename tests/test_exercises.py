"""The chapters' exercises: at least three per chapter in the book's MyST pattern (an exercise, then
its solution folded), one that reruns the chapter with a parameter of its spec, one whose solution
is code, one with the chapter's widget where it has one; every papermill command names the
chapter's own parameters with valid values; every solution's code runs on its own and prints
exactly the output its solution states.

The notebooks are read from ``$COURSE_NOTEBOOKS`` (default: the repository's notebooks/), so a copy
with the content placed by tools/chapter_content.py can be checked before the real ones are changed.
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import io
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT

NOTEBOOKS = Path(os.environ.get("COURSE_NOTEBOOKS", ROOT / "notebooks"))
CHAPTERS = {"000_fer_dcgan_augmentation.ipynb": "fer", "001_fer_cyclegan_emotion_transfer.ipynb": "cyclegan",
            "002_fruits_dcgan_diffaugment.ipynb": "fruits", "003_fer_dcgan_per_expression.ipynb": "radford",
            "004_mnist_gans.ipynb": "mnist"}

EXERCISE = re.compile(
    r"^:::\{admonition\} Exercise (?P<number>\d{3}\.\d+): (?P<title>[^\n]+)\n(?P<question>.*?)\n:::\n\n"
    r":::\{admonition\} Solution\n:class: dropdown\n\n(?P<solution>.*?)\n:::$", re.S | re.M)
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.S | re.M)


@dataclass
class Exercise:
    chapter: str
    number: str
    title: str
    question: str
    solution: str

    @property
    def blocks(self) -> list[tuple[str, str]]:
        return [(m["lang"], m["body"]) for m in FENCE.finditer(self.solution)]


def exercises(chapter: str) -> list[Exercise]:
    nb = nbformat.read(NOTEBOOKS / chapter, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += [Exercise(chapter, m["number"], m["title"], m["question"], m["solution"])
                      for m in EXERCISE.finditer(cell.source)]
            opened = cell.source.count(":::{admonition} Exercise")
            assert opened == len(EXERCISE.findall(cell.source)), (
                f"{chapter}: an exercise in cell {cell.get('id')} does not follow the pattern "
                f"':::{{admonition}} Exercise NNN.k: title' ... ':::' + a ':class: dropdown' Solution")
    return found


def _all_exercises() -> list[Exercise]:
    return [e for chapter in CHAPTERS if (NOTEBOOKS / chapter).exists() for e in exercises(chapter)]


def _with_code() -> list[Exercise]:
    return [e for e in _all_exercises() if any(lang == "python" for lang, _ in e.blocks)]


def _papermill_commands(text: str) -> list[list[str]]:
    lines = [line.strip() for line in text.splitlines() if re.search(r"(^|/)papermill\s", line.strip())]
    return [shlex.split(line) for line in lines]


def _value(text: str):
    """A ``-p`` value as papermill reads it: True, False, None, an int, a float, else a string."""
    named = {"True": True, "False": False, "None": None}
    if text in named:
        return named[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parameters(args: list[str]) -> dict:
    given, i = {}, 0
    while i < len(args):
        if args[i] in ("-p", "--parameters"):
            given[args[i + 1]] = _value(args[i + 2])
            i += 3
        elif args[i] in ("-y", "--parameters_yaml"):
            given.update(yaml.safe_load(args[i + 1]))
            i += 2
        else:
            i += 1
    return given


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_each_chapter_has_three_exercises_with_solutions(chapter):
    found = exercises(chapter)
    assert len(found) >= 3, f"{chapter}: {len(found)} exercises; each chapter has at least three (tools/chapter_content.py)"
    prefix = chapter[:3]
    assert [e.number for e in found] == [f"{prefix}.{k}" for k in range(1, len(found) + 1)], [e.number for e in found]
    assert any(_papermill_commands(e.question + e.solution) for e in found), f"{chapter}: no exercise reruns the chapter"
    assert any(e in _with_code() for e in found), f"{chapter}: no solution has code"
    source = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / chapter, as_version=4).cells if c.cell_type == "code")
    if "latent_explorer(" in source or "widgets.interact(" in source:
        assert any(re.search(r"widget|explorer", e.title + e.question, re.I) for e in found), f"{chapter}: no exercise uses its widget"
    for e in found:
        assert e.solution.strip() and e.question.strip(), f"{e.number}: empty question or solution"


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_papermill_commands_use_the_chapters_parameters(chapter):
    spec = importlib.import_module(f"labkit.experiments.{CHAPTERS[chapter]}").SPEC
    for e in exercises(chapter):
        for command in _papermill_commands(e.question + "\n" + e.solution):
            positional = [a for a in command[1:] if a.endswith(".ipynb")]
            assert positional and Path(positional[0]).name == chapter, f"{e.number}: {shlex.join(command)} runs another notebook"
            given = _parameters(command)
            assert given, f"{e.number}: {shlex.join(command)} sets no parameter"
            assert set(given) <= set(spec.names), f"{e.number}: {sorted(set(given) - set(spec.names))} are not parameters of {chapter}"
            spec.resolve(given)  # a bad value raises ParameterError


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_code_in_exercises_parses(chapter):
    for e in exercises(chapter):
        for m in FENCE.finditer(e.question + "\n" + e.solution):
            if m["lang"] == "python":
                ast.parse(m["body"], filename=f"exercise {e.number}")


@pytest.mark.parametrize("exercise", _with_code(), ids=lambda e: f"{e.number} {e.title}")
def test_solution_code_prints_what_the_solution_states(exercise, monkeypatch):
    """Every python block of a solution runs on its own (all of a solution's blocks in one namespace)
    and is followed by a ``text`` block: exactly what it prints."""
    monkeypatch.setenv("LABKIT_PROGRESS", "off")
    blocks, namespace = exercise.blocks, {"__name__": "__exercise__"}
    for i, (lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        assert i + 1 < len(blocks) and blocks[i + 1][0] == "text", f"{exercise.number}: state the output after the code"
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, f"<solution {exercise.number}>", "exec"), namespace)
        printed = [line.rstrip() for line in out.getvalue().strip().splitlines()]
        stated = [line.rstrip() for line in blocks[i + 1][1].strip().splitlines()]
        assert printed == stated, f"{exercise.number}: the code prints\n" + "\n".join(printed)
