"""Show the real source of labkit's code in a chapter.

``source(obj)`` returns the source text of a function, method or class, highlighted, as a display
object: put it last in a cell (or pass it to ``display``). The text is exactly what
``inspect.getsource`` reads from the installed file, so the chapter shows the code that ran, never
a copy that could drift from it::

    from labkit.show import source
    from labkit.losses import gradient_penalty
    source(gradient_penalty)

It renders in JupyterLab, Colab and the book (HTML with the colours inline, so it needs no style
sheet) and as plain text anywhere else.
"""
from __future__ import annotations

import inspect
from typing import Any

from IPython.display import Code

__all__ = ["Source", "source"]


class Source(Code):
    """``IPython.display.Code`` for Python source, with inline colours.

    ``Code``'s HTML relies on a style sheet scoped to the classic notebook's ``.output_html``;
    inline styles look the same in every front end. ``text`` is the source itself.
    """

    def __init__(self, text: str, name: str = ""):
        super().__init__(text, language="python")
        self.name = name

    @property
    def text(self) -> str:
        return self.data

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        html = highlight(self.data, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=False))
        title = f' title="{self.name}"' if self.name else ""
        return f'<div class="labkit-source" style="overflow-x: auto"{title}>{html}</div>'


def _target(obj: Any) -> Any:
    """What ``inspect`` can read: properties give their getter, cached properties their function."""
    if isinstance(obj, property) and obj.fget is not None:
        return obj.fget
    func = getattr(obj, "func", None)  # functools.cached_property
    if func is not None and type(obj).__name__ == "cached_property":
        return func
    return obj


def _has_source_kind(obj: Any) -> bool:
    return any(check(obj) for check in (inspect.isfunction, inspect.ismethod, inspect.isclass, inspect.ismodule,
                                        inspect.iscode, inspect.isframe, inspect.istraceback))


def source(obj: Any) -> Source:
    """The source of ``obj`` (a function, method, class, property or module) for display.

    Raises ``TypeError`` when ``obj`` has no Python source: a number, an instance, a built-in
    written in C, or a class defined in a notebook cell (whose file is not on disk).
    """
    target = _target(obj)
    name = str(getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or type(target).__name__)
    builtin_kinds = (inspect.isbuiltin, inspect.ismethoddescriptor, getattr(inspect, "ismethodwrapper", lambda _: False))
    if any(check(target) for check in builtin_kinds):
        raise TypeError(f"source(): {name} is built into Python (written in C): it has no Python source to show")
    if not _has_source_kind(target):
        kind = type(obj)
        hint = "; for its class, use source(type(obj))" if kind.__module__ != "builtins" else ""
        raise TypeError(f"source() shows a function, method, class or module; {obj!r:.60} is an instance "
                        f"of {kind.__qualname__}{hint}")
    try:
        text = inspect.getsource(target)
    except (OSError, TypeError) as err:
        raise TypeError(f"source(): {name} has no Python source to show; it is not defined in a file "
                        f"on disk ({err})") from err
    return Source(text, name=name)
