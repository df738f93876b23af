import pytest

from labkit.params import Param, ParameterError, Spec, snapshot

SPEC = Spec(
    Param("epochs", "epochs", 2, 25, int, low=1),
    Param("lr", "learning rate", 0.002, 0.0002, float, low=1e-6, high=1.0),
    Param("mode", "a choice", "a", "b", str, choices=("a", "b")),
    Param("fractions", "a list", [0.1, 1.0], [0.5], list, items=(int, float), low=0, high=1),
    Param("flag", "a flag", True, False, bool),
    data=("data folder", "data"),
)


def test_profiles_fill_none_values():
    q = SPEC.resolve({"epochs": None})
    assert (q.profile, q.epochs, q.lr, q.data_dir, q.mode, q.flag) == ("quick", 2, 0.002, None, "a", True)
    p = SPEC.resolve(profile="paper")
    assert (p.epochs, p.lr, p.data_dir, p.mode, p.fractions) == (25, 0.0002, "data", "b", [0.5])


def test_given_values_win_and_ints_become_floats():
    p = SPEC.resolve(profile="paper", epochs=3, lr=1)
    assert p.epochs == 3 and p.lr == 1.0 and isinstance(p.lr, float)
    assert p.table().loc["epochs", "source"] == "given"
    assert p.table().loc["mode", "source"] == "profile"


def test_unknown_name_lists_every_valid_one():
    with pytest.raises(ParameterError) as err:
        SPEC.resolve(epoch=3)
    text = str(err.value)
    assert "unknown parameter(s) epoch" in text
    for name in ("profile", "seed", "epochs", "lr", "data_dir", "mode", "fractions", "flag"):
        assert f"  {name}:" in text


@pytest.mark.parametrize("name, value, expected", [
    ("epochs", 0, "int in [1, inf]"),
    ("epochs", "3", "int in [1, inf]"),
    ("epochs", True, "int"),
    ("lr", 5.0, "float in [1e-06, 1.0]"),
    ("mode", "c", "one of 'a', 'b'"),
    ("profile", "fast", "one of 'quick', 'paper'"),
    ("fractions", [0.1, 2], "a non-empty list of int or float"),
    ("fractions", [], "a non-empty list"),
    ("flag", 1, "bool"),
    ("seed", -1, "int in [0, inf]"),
])
def test_bad_values_name_the_parameter_and_what_was_expected(name, value, expected):
    with pytest.raises(ParameterError) as err:
        SPEC.resolve({name: value})
    assert f"parameter {name!r} = {value!r}" in str(err.value)
    assert expected in str(err.value)


def test_collect_reads_a_notebook_namespace():
    import math

    ns = {"In": [], "math": math}
    before = snapshot(ns)
    ns.update({"profile": "paper", "epochs": None, "lr": 0.01, "np": math, "helper": print})
    p = SPEC.collect(ns, before)
    assert p.profile == "paper" and p.epochs == 25 and p.lr == 0.01
    ns["epocs"] = 5  # a typo, as papermill -p would inject it
    with pytest.raises(ParameterError, match="unknown parameter\\(s\\) epocs"):
        SPEC.collect(ns, before)


def test_chapter_specs_resolve_in_both_profiles():
    from labkit.experiments import mnist

    for spec in (mnist.SPEC, mnist.RUN_SPEC):
        for profile in ("quick", "paper"):
            spec.resolve(profile=profile)
