"""Networks by name, as junyanz's ``define_G`` / ``define_D`` build them: one table per role and
one lookup, so a run spec can say ``arch="radford"`` and a reader can find every network a
chapter may build in one place.

Every entry takes the data's image shape ``(channels, size)``, the number of classes it is
conditioned on (0: none; for a classifier, its outputs) and the network's own arguments (e.g.
``F``, the capacity multiplier). Entries whose networks are built for one image size say so when
given another.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from labkit.models.cyclegan import PatchDiscriminator, ResnetGenerator
from labkit.models.fer_classifiers import SimpleFERNet, SurrealFERNet
from labkit.models.fer_paper000 import Paper000CNN, Paper000Discriminator, Paper000Generator
from labkit.models.fruits import FruitNet
from labkit.models.lenet import LeNet
from labkit.models.mnist_gan import MnistDiscriminator, MnistGenerator
from labkit.models.radford import RadfordDiscriminator, RadfordGenerator


def sized(want: tuple[int | None, int], build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """``build`` for networks made for one image size (and, unless None, one channel count)."""
    def checked(c: int, s: int, k: int, **args) -> nn.Module:
        if s != want[1] or (want[0] is not None and c != want[0]):
            shown = f"{want[0] if want[0] is not None else 'C'}×{want[1]}×{want[1]}"
            raise ValueError(f"this network is built for {shown} images; the data has {c}×{s}×{s}")
        return build(c, s, k, **args)

    return checked


GENERATORS: dict[str, Callable[..., nn.Module]] = {
    # paper 004: MNIST, 1×28×28
    "mnist": sized((1, 28), lambda c, s, k, nz=100, **a: MnistGenerator(nz=nz, num_classes=k, **a)),
    # paper 000: FER2013, 48×48
    "paper000": sized((None, 48), lambda c, s, k, nz=100, **a: Paper000Generator(nz=nz, channels=c, num_classes=k, **a)),
    # Radford et al. (papers 002, 003): 32, 48, 64 or 96 px
    "radford": lambda c, s, k, nz=100, **a: RadfordGenerator(nz=nz, channels=c, size=s, num_classes=k, **a),
    # CycleGAN (paper 001): image to image, any size
    "resnet": lambda c, s, k, **a: ResnetGenerator(channels=c, **a),
}

DISCRIMINATORS: dict[str, Callable[..., nn.Module]] = {
    "mnist": sized((1, 28), lambda c, s, k, **a: MnistDiscriminator(num_classes=k, **a)),
    "paper000": sized((None, 48), lambda c, s, k, **a: Paper000Discriminator(channels=c, num_classes=k, **a)),
    "radford": lambda c, s, k, **a: RadfordDiscriminator(channels=c, size=s, num_classes=k, **a),
    "patch": lambda c, s, k, **a: PatchDiscriminator(channels=c, **a),
}

CLASSIFIERS: dict[str, Callable[..., nn.Module]] = {
    "lenet": lambda c, s, k, **a: LeNet(k, in_channels=c, image_size=s, **a),  # paper 004, Listing 1
    "paper000": lambda c, s, k, **a: Paper000CNN(k, in_channels=c, image_size=s, **a),
    "simple": lambda c, s, k, **a: SimpleFERNet(k, in_channels=c, image_size=s, **a),  # paper 001
    "surreal": lambda c, s, k, **a: SurrealFERNet(k, in_channels=c, image_size=s, **a),  # paper 001
    "fruitnet": lambda c, s, k, **a: FruitNet(k, channels=c, **a),  # paper 002's judge
}

TABLES = {"generator": GENERATORS, "discriminator": DISCRIMINATORS, "classifier": CLASSIFIERS}


def define(role: str, name: str, shape: tuple[int, ...], num_classes: int = 0, **args) -> nn.Module:
    """The ``role`` network (``"generator"``, ``"discriminator"`` or ``"classifier"``) called
    ``name``, for images of ``shape`` (C, H, W), with ``num_classes`` and its own ``args``."""
    if role not in TABLES:
        raise ValueError(f"role must be one of {sorted(TABLES)}; got {role!r}")
    table = TABLES[role]
    if name not in table:
        raise ValueError(f"unknown {role} {name!r}; the known ones are {', '.join(sorted(table))}")
    try:
        return table[name](shape[0], shape[-1], num_classes, **args)
    except TypeError as err:  # a misspelt argument
        raise TypeError(f"{role} {name!r}: {err}") from err


def define_G(name: str, shape: tuple[int, ...], num_classes: int = 0, **args) -> nn.Module:
    return define("generator", name, shape, num_classes, **args)


def define_D(name: str, shape: tuple[int, ...], num_classes: int = 0, **args) -> nn.Module:
    return define("discriminator", name, shape, num_classes, **args)


def define_classifier(name: str, shape: tuple[int, ...], num_classes: int, **args) -> nn.Module:
    return define("classifier", name, shape, num_classes, **args)
