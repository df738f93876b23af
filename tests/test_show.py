"""labkit.show.source: the real source, highlighted, or a clear error."""
import functools
import inspect
import textwrap

import pytest
import torch

from labkit import losses, models
from labkit.show import Source, source


class _Example:
    """A class with a method, a property and a cached property."""

    def method(self, x):
        return x + 1

    @property
    def prop(self):
        return 2

    @functools.cached_property
    def cached(self):
        return 3


def _decorated(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        return f(*a, **k)
    return wrapper


@_decorated
def _wrapped(x):
    return x * 2


@pytest.mark.parametrize("obj, target", [
    (losses.gradient_penalty, losses.gradient_penalty),   # a function
    (models.LeNet, models.LeNet),                         # a class
    (models.LeNet.forward, models.LeNet.forward),         # a method
    (_Example().method, _Example.method),                 # a bound method
    (_Example.prop, _Example.prop.fget),                  # a property: its getter
    (_Example.__dict__["cached"], _Example.__dict__["cached"].func),  # a cached property
    (_wrapped, _wrapped.__wrapped__),                     # a decorated function: the original
    (losses, losses),                                     # a module
])
def test_source_is_exactly_what_inspect_reads(obj, target):
    shown = source(obj)
    assert isinstance(shown, Source)
    assert shown.text == inspect.getsource(target)
    assert repr(shown) == inspect.getsource(target)  # the text/plain a notebook shows


def test_display_data_carries_the_source_as_text_and_highlighted_html():
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(source(losses.gradient_penalty))
    assert data["text/plain"] == inspect.getsource(losses.gradient_penalty).rstrip("\n")  # IPython drops the last newline
    html = data["text/html"]
    assert "labkit-source" in html and "style=" in html  # colours inline: no style sheet needed
    # the HTML holds the same text, token by token
    import html as html_lib
    import re
    visible = html_lib.unescape(re.sub(r"<[^>]+>", "", html))
    assert textwrap.dedent(visible).strip() == textwrap.dedent(inspect.getsource(losses.gradient_penalty)).strip()


@pytest.mark.parametrize("obj, message", [
    (len, "built into Python"),
    ([].append, "built into Python"),
    (object.__init__, "built into Python"),
    (torch.relu, "built into Python"),
    (3, "is an instance of int"),
    (models.LeNet(), "source(type(obj))"),
])
def test_things_without_source_raise_a_clear_type_error(obj, message):
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        source(obj)


def test_code_without_a_file_says_so():
    namespace = {}
    exec("class Typed:\n    pass\n", namespace)  # like a class typed into a REPL
    with pytest.raises(TypeError, match="not defined in a file on disk"):
        source(namespace["Typed"])
