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


def _chapter_specs():
    from labkit.experiments import cyclegan, fer, fruits, mnist, radford

    return {"mnist": mnist.SPEC, "mnist run": mnist.RUN_SPEC, "fer": fer.SPEC, "cyclegan": cyclegan.SPEC,
            "fruits": fruits.SPEC, "radford": radford.SPEC}


CHAPTER_SPECS = ["mnist", "mnist run", "fer", "cyclegan", "fruits", "radford"]


@pytest.mark.parametrize("name", CHAPTER_SPECS)
def test_chapter_specs_resolve_in_both_profiles(name):
    """Each profile resolves to its own declared values, of the declared types; the quick profile
    is smaller wherever the paper's scale costs time (epochs, capacity, sample counts) and uses
    the embedded data."""
    from labkit.params import PROFILES

    spec = _chapter_specs()[name]
    resolved = {profile: spec.resolve(profile=profile) for profile in PROFILES}
    for profile, P in resolved.items():
        assert P.profile == profile and list(P) == spec.names
        for k, param in spec.params.items():
            value, declared = P[k], getattr(param, profile)
            assert value == declared, (profile, k)
            if value is None:
                assert param.nullable, (profile, k)
                continue
            kinds = param.kind if isinstance(param.kind, tuple) else (param.kind,)
            assert type(value) in kinds, (profile, k, type(value))  # floats stay floats, no bools for ints
            if param.items is not None:
                items = param.items if isinstance(param.items, tuple) else (param.items,)
                assert value and all(type(v) in items for v in value), (profile, k)
            if param.choices is not None:
                assert value in param.choices, (profile, k)
    quick, paper = resolved["quick"], resolved["paper"]
    sizes = {"n_standin", "n_standin_test", "n_eval", "n_generate", "celeba_max"}  # images drawn, read or generated
    costly = [k for k in spec.names if k.endswith("epochs") or k == "F" or k.endswith("_F") or k in sizes]
    assert len(costly) >= 3
    for k in costly:
        assert quick[k] < paper[k], k
    if "data_dir" in spec.names:
        assert quick.data_dir is None and paper.data_dir  # the embedded data, the real data set
    for k in ("seeds", "mix_seeds"):
        if k in spec.names:
            assert quick[k] <= paper[k]
    assert quick.seed == paper.seed == 0 and quick.device == paper.device == "auto"


def test_paper_profiles_equal_what_the_chapters_quote():
    """Where a parameter mirrors a number the chapter quotes from its paper, the paper profile
    holds that number; and every parameter whose help cites the paper ("paper: 25") holds the
    value cited, since the parameter table prints that help beside the value."""
    import re

    from labkit.data.fruits360 import FRUITS
    from labkit.experiments import cyclegan, fer, fruits, mnist, radford

    P = {name: spec.resolve(profile="paper") for name, spec in _chapter_specs().items()}
    m, r = P["mnist"], P["mnist run"]
    assert m.gan_epochs == m.grid_epochs == r.epochs == mnist.PAPER["epochs"]
    assert m.lr_dcgan == mnist.PAPER["lr_dcgan"] and m.lr_ccgan == r.lr == mnist.PAPER["lr_ccgan"] and r.conditional
    assert m.grid == "full" and len(mnist.FULL_GRID) == 27 and {"F": r.F, "D": r.D, "B": r.B} in mnist.FULL_GRID
    assert mnist.PAPER["pca_saturation_components"] in m.pca_components and max(m.pca_components) == 28 * 28
    assert m.mix_fractions == pytest.approx([i / 10 for i in range(1, 11)])
    f = P["fer"]
    assert f.clf_epochs == fer.PAPER["cnn_epochs"] and f.n_generate == fer.PAPER["generated_per_class"]
    assert f.gan_epochs == fer.PAPER["gan_epochs"]["Fear"] and f.gan_epochs_rare == fer.PAPER["gan_epochs"]["Disgust"]
    assert f.n_weak == len(fer.PAPER["weak"])
    assert f.n_standin + 2 * f.n_standin_test == fer.PAPER["total"] == sum(fer.PAPER["counts"])  # 28,709 + 2 × 3,589
    c = P["cyclegan"]
    assert c.lr_g == cyclegan.PAPER["lr_g"] and c.lr_d == cyclegan.PAPER["lr_d"]
    assert (c.n_standin, c.n_standin_test) == (f.n_standin, f.n_standin_test)
    assert (c.source, c.target, c.second_target) == ("Neutral", "Happy", "Surprise") and c.variants == list(cyclegan.VARIANTS)
    fr = P["fruits"]
    assert fr.fruits == list(fruits.PAPER) == list(FRUITS) and fr.policy == fruits.POLICY
    assert fruits.PAPER_NOTES["epochs"] == f"about {fr.epochs}" and fr.lr == radford.PAPER["lr"]  # Radford's DCGAN
    d = P["radford"]
    assert d.batch == radford.PAPER["batch"] and d.lr == radford.PAPER["lr"]
    assert d.sanity_epochs == radford.PAPER["celeba_epochs"] and d.epochs == radford.PAPER["fer_epochs"]
    assert d.expressions == list(radford.CLASSES) and d.n_standin == f.n_standin

    cited = re.compile(r"\(paper[^:()]*: (?:about )?([^;)]*)")  # "(paper: 25)", "(paper's best: 32)", "(paper 000: 70)"
    number = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?")
    checked = 0
    for name, spec in _chapter_specs().items():
        for k, param in spec.params.items():
            found = cited.search(param.help)
            values = [float(n.replace(",", "")) for n in number.findall(found.group(1))] if found else []
            if values:
                assert P[name][k] in values, (name, k, param.help)
                checked += 1
    assert checked >= 20


def test_type_names_the_parameters_cell_annotates():
    names = {n: p.type_name for n, p in SPEC.params.items()}
    assert names == {"profile": "str", "seed": "int", "data_dir": "str", "epochs": "int", "lr": "float", "mode": "str",
                     "fractions": "list", "flag": "bool", "device": "str", "run_root": "str"}
    assert Param("x", "int or float", 1, 2, (int, float)).type_name == "float"
