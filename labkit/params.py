"""Notebook parameters: one spec per chapter, two profiles, strict validation.

A chapter's ``parameters`` cell sets every knob, most of them to ``None`` meaning
"the profile's value". A knob may have a third value, ``real``: the quick profile's value when
``data_dir`` points at the real dataset (real photographs need more generator steps than drawn
stand-ins to show faces or fruit; the epochs stay affordable because each draws ``epoch_images``).
Right after the parameters cell, :meth:`Spec.collect` reads the notebook's namespace, refuses
unknown names (a typo in ``papermill -p``) and bad values at once, and fills the ``None`` knobs
from the chosen profile::

    _before = labkit.params.snapshot(globals())      # before the parameters cell
    # parameters cell ...
    P = SPEC.collect(globals(), _before)              # after it
"""
from __future__ import annotations

import inspect
import numbers
from dataclasses import dataclass
from typing import Any, Sequence

PROFILES = ("quick", "paper")


class ParameterError(ValueError):
    """A notebook parameter is unknown or has a bad value."""


@dataclass(frozen=True)
class Param:
    name: str
    help: str  # the one-line reason, printed in the parameter table
    quick: Any  # value in the quick profile (the default)
    paper: Any  # value at the paper's scale
    kind: type | tuple[type, ...] = object
    choices: Sequence[Any] | None = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False  # the resolved value may be None (e.g. data_dir: the embedded data)
    items: type | tuple[type, ...] | None = None  # for list parameters: the type of each item
    real: Any = None  # the quick profile's value on the real dataset (data_dir given); None: ``quick``

    def value(self, profile: str, real_data: bool) -> Any:
        """The profile's value of this knob: ``paper``, or ``quick`` (``real`` on real data)."""
        if profile == "quick" and real_data and self.real is not None:
            return self.real
        return getattr(self, profile)

    def __post_init__(self):
        if "=" in self.help:  # papermill skips a parameter line with a second "="
            raise ValueError(f"parameter {self.name!r}: its help must not contain '=' (papermill cannot read the line)")

    @property
    def type_name(self) -> str:
        """The type a notebook's parameters cell annotates (``float`` where ints are also taken)."""
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        return "float" if float in kinds else kinds[0].__name__

    def expected(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        text = " or ".join(k.__name__ for k in kinds)
        if self.items is not None:
            items = self.items if isinstance(self.items, tuple) else (self.items,)
            text = "a non-empty list of " + " or ".join(k.__name__ for k in items)
        if self.low is not None or self.high is not None:
            text += f" in [{self.low if self.low is not None else '-inf'}, {self.high if self.high is not None else 'inf'}]"
        return text + (" or None" if self.nullable else "")

    def check(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        if self.choices is not None:
            if isinstance(value, list) or value not in self.choices:
                raise ParameterError(f"parameter {self.name!r} = {value!r}: expected {self.expected()}")
            return value
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        if float in kinds and isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = float(value) if int not in kinds else value
        if isinstance(value, bool) and bool not in kinds:
            raise ParameterError(f"parameter {self.name!r} = {value!r}: expected {self.expected()}")
        if not isinstance(value, kinds):
            raise ParameterError(f"parameter {self.name!r} = {value!r}: expected {self.expected()}")
        if isinstance(value, (list, tuple)) and self.items is not None:
            value = list(value)
            for item in value:
                bad = isinstance(item, bool) or not isinstance(item, self.items)
                if bad or (self.low is not None and item < self.low) or (self.high is not None and item > self.high):
                    raise ParameterError(f"parameter {self.name!r} = {value!r}: expected {self.expected()}")
            if not value:
                raise ParameterError(f"parameter {self.name!r} = []: expected {self.expected()}")
            return value
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                raise ParameterError(f"parameter {self.name!r} = {value!r}: expected {self.expected()}")
        return value


class Params(dict):
    """Resolved parameters: a dict that also reads as attributes (``P.epochs``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def run(self) -> dict[str, Any]:
        """Where runs train and keep their checkpoints, and how much of their data an epoch draws
        (after :meth:`size_to`): ``fit(spec, data, epochs, **P.run)``."""
        share = {"epoch_share": self["epoch_share"]} if self.get("epoch_share") is not None else {}
        return {"device": self["device"], "run_root": self["run_root"], **share}

    def size_to(self, n_train: int, what: str = "training images") -> float | None:
        """Size every run's epochs to the training set of ``n_train`` images: with ``epoch_images``
        smaller than that, each epoch of a run draws the share ``epoch_images / n_train`` of the
        run's own images, afresh every epoch. A run on the whole set then costs per epoch what a
        run on ``epoch_images`` images costs, and a run on one class its part of it. Said in one
        line; returns the share (None: every image, every epoch, as ``epoch_images`` 0 or None asks)."""
        cap = self.get("epoch_images")
        share = cap / n_train if cap and cap < n_train else None
        self["epoch_share"] = share
        if share is not None:
            print(f"[labkit] {n_train:,} {what}: each epoch draws {share:.1%} of a run's images, afresh "
                  f"(epoch_images={cap:,}), so an epoch costs what it does on {cap:,} images; "
                  f"epoch_images=0 trains on every image each epoch", flush=True)
        return share

    def table(self):
        """A pandas table of name, value, where it came from and why it is there."""
        import pandas as pd

        return pd.DataFrame(self._rows, columns=["parameter", "value", "source", "why"]).set_index("parameter")


class Spec:
    """The parameters of one chapter."""

    def __init__(self, *params: Param, data: tuple[str, str] | None = None, epoch_images: int | None = None, check=None,
                 profile_help: str = "quick: embedded data on a CPU, minutes; paper: the paper's data and scale (GPU)"):
        """``params``: the chapter's own knobs. Every chapter also gets ``profile``, ``seed``,
        ``device`` and ``run_root``, declared here once; ``data = (help, paper default)``
        adds ``data_dir`` (None: the embedded default data); ``epoch_images`` adds that knob with
        this quick value, the embedded data's size (see :meth:`Params.size_to`; paper: None, every
        image each epoch). ``check(P)``: the chapter's rules
        across parameters (e.g. the ablation fruit must be one of the fruits), run on every
        resolved set, so a combination the chapter cannot run stops before any work."""
        self.check = check
        own = {p.name: p for p in params}
        shared = {"profile", "seed", "data_dir", "epoch_images", "device", "run_root"}
        if shared & set(own):
            raise ValueError(f"{sorted(shared & set(own))} are added by Spec itself")
        self.params = {
            "profile": Param("profile", profile_help, "quick", "paper", str, choices=PROFILES),
            "seed": Param("seed", "one seed for data order, noise and initial weights", 0, 0, int, low=0),
            **({"data_dir": Param("data_dir", data[0], None, data[1], str, nullable=True)} if data else {}),
            **({"epoch_images": Param(
                "epoch_images", "images one epoch draws from a larger training set (quick: the embedded data's "
                "size, so real data takes about as long; a run on one class draws its share); 0: every image",
                epoch_images, None, int, low=0, nullable=True)} if epoch_images is not None else {}),
            **own,
            "device": Param("device", "where to train: auto picks CUDA, then MPS, then CPU", "auto", "auto", str,
                            choices=("auto", "cuda", "mps", "cpu")),
            "run_root": Param("run_root", "where checkpoints go, one folder per run (None: $LABKIT_RUNS or runs)",
                              None, None, str, nullable=True),
        }

    @property
    def names(self) -> list[str]:
        return list(self.params)

    def cell(self) -> str:
        """The notebook's ``parameters`` cell, one typed line per parameter with its reason, in the
        form papermill reads (``name: Optional[int] = None  # why``; ``papermill --help-notebook``
        lists them). A knob whose two profiles differ defaults to ``None``: the profile's value."""
        lines = []
        for p in self.params.values():
            kind = p.type_name
            same = (p.quick == p.paper and p.real is None) or p.name == "profile"
            value = "None" if not same else f'"{p.quick}"' if isinstance(p.quick, str) else repr(p.quick)
            annotation = f"Optional[{kind}]" if (p.nullable or not same) else kind
            lines.append(f"{p.name}: {annotation} = {value}  # {p.help}")
        return "\n".join(lines)

    def _unknown(self, names) -> None:
        if names:
            valid = "\n".join(f"  {p.name}: {p.expected()} — {p.help}" for p in self.params.values())
            raise ParameterError(
                f"unknown parameter(s) {', '.join(sorted(names))}; the valid parameters are:\n{valid}"
            )

    def resolve(self, given: dict[str, Any] | None = None, **kwargs: Any) -> Params:
        """Validate ``given`` (names → values; ``None`` = the profile's value) and fill the rest."""
        given = {**(given or {}), **kwargs}
        self._unknown(set(given) - set(self.params))
        profile = given.get("profile") or "quick"
        profile = self.params["profile"].check(profile)
        out, rows = Params(), []
        real_data = given.get("data_dir") is not None
        for name, p in self.params.items():
            value = given.get(name)
            if name == "profile":
                value, source = profile, "given" if given.get("profile") else "default"
            elif value is None:
                value = p.value(profile, real_data)
                source = "profile, real data" if profile == "quick" and real_data and p.real is not None else "profile"
            else:
                source = "given"
            out[name] = p.check(value)
            rows.append((name, repr(out[name]), source, p.help))
        out._rows = rows  # type: ignore[attr-defined]
        if self.check is not None:
            self.check(out)
        return out

    def collect(self, namespace: dict[str, Any], before: set[str]) -> Params:
        """Resolve the values a notebook defined after :func:`snapshot` (its parameters cell
        and papermill's injected cell). Modules, functions and classes are not parameters."""
        new = {
            k: v for k, v in namespace.items()
            if k not in before and not k.startswith("_")
            and not (inspect.ismodule(v) or inspect.isroutine(v) or inspect.isclass(v))
        }
        return self.resolve(new)


def require(ok: bool, message: str) -> None:
    """For a chapter's ``check``: stop with ``message`` unless ``ok``."""
    if not ok:
        raise ParameterError(message)


def subset(P: Params, name: str, allowed) -> None:
    """For a chapter's ``check``: the list parameter ``name`` holds only ``allowed`` values, each once."""
    values = P[name]
    bad = [v for v in values if v not in allowed]
    require(not bad and len(set(values)) == len(values),
            f"parameter {name!r} = {values!r}: expected distinct values among {list(allowed)}" + (f"; {bad} are not" if bad else ""))


def snapshot(namespace: dict[str, Any]) -> set[str]:
    """The names defined so far, so :meth:`Spec.collect` can tell which ones are parameters."""
    return set(namespace) | {"_before"}
