"""One way to start a run: a frozen spec per kind of run, and :func:`fit`.

A spec (like nanoGPT's ``GPTConfig``) names everything that defines a run: the networks by
their registry names and arguments, the loss, learning rates, batch, augmentation and seed.
It leaves out how long to train: asking for more epochs continues a run. ::

    spec = GANSpec("dcgan-happy", arch="radford", g_args={"F": 0.25}, d_args={"F": 0.25}, lr_g=1e-3, lr_d=1e-3)
    trainer = fit(spec, happy_faces, epochs=20)

:func:`fit` is the only way a run starts. It seeds, builds the networks by name
(:mod:`labkit.models.registry`), wires every random augmenter to the trainer's own random
state (which every checkpoint saves, so a run killed at any point resumes to bit-identical
weights on the CPU), and names the run folder after ``asdict(spec)`` plus the data's
fingerprint: two runs on different data never share a checkpoint, and rerunning the same
spec on the same data finds its checkpoint and continues from it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import singledispatch
from typing import Any, Callable

import torch
from torch.nn.functional import cross_entropy

from labkit.augment import make_augment
from labkit.data.core import ImageSet, tensor_fingerprint
from labkit.losses import make_loss
from labkit.models.registry import define_classifier, define_D, define_G
from labkit.runtime import seed_everything
from labkit.train import BatchSource, ClassifierTrainer, CycleGANTrainer, GANTrainer, run_dir
from labkit.train.classifier import predict

Metrics = dict[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class GANSpec:
    """A GAN run: generator and discriminator ``arch`` from the registry with their own arguments,
    trained with Adam on ``loss`` (``"bce"``, ``"lsgan"``, ``"wgan-gp"``), ``d_steps``
    discriminator steps per generator step, and an optional augmentation of D's inputs
    (``augment="diffaugment"``, ``augment_args={"policy": ...}``)."""

    name: str
    arch: str = "radford"
    g_args: dict = field(default_factory=dict)
    d_args: dict = field(default_factory=dict)
    conditional: bool = False  # on the data's labels
    nz: int = 100
    loss: str = "bce"
    loss_args: dict = field(default_factory=dict)  # e.g. {"real_target": 0.9}, {"lambda_gp": 10.0}
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch: int = 64
    d_steps: int = 1
    augment: str | None = None
    augment_args: dict = field(default_factory=dict)
    n_fixed: int | None = None  # fixed-noise samples drawn after each epoch (default 64, or 10 per class)
    ema: float = 0.0  # samples from a moving average of G's weights with this decay (e.g. 0.999); 0: from G
    # the learning rates decay linearly to 0 over the epochs after this share of them (None: constant);
    # with a decay, the epochs asked for are part of what defines the run
    decay_from: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class ClassifierSpec:
    """A classifier run: ``arch`` from the registry, Adam and cross-entropy, an optional
    augmentation (``augment="classic"``) and class-balanced loss weights."""

    name: str
    arch: str
    arch_args: dict = field(default_factory=dict)
    lr: float = 1e-3
    batch: int = 64
    augment: str | None = None
    augment_args: dict = field(default_factory=dict)
    balanced: bool = False  # weigh each class n / (k · n_c) in the loss (scikit-learn's "balanced")
    seed: int = 0


@dataclass(frozen=True)
class CycleGANSpec:
    """A CycleGAN run (:class:`labkit.train.CycleGANTrainer`): two ``generator`` and two
    ``discriminator`` networks from the registry, ``loss`` (least squares or Wasserstein with
    gradient penalty), the pixel or weighted cycle loss, and an optional augmentation of the real
    images. The learning rates decay over the epochs a run is asked for, so for this kind of run
    the epochs are part of what defines it."""

    name: str
    generator: str = "resnet"
    discriminator: str = "patch"
    g_args: dict = field(default_factory=dict)
    d_args: dict = field(default_factory=dict)
    loss: str = "lsgan"
    loss_args: dict = field(default_factory=dict)
    lr_g: float = 2e-4
    lr_d: float = 1e-4
    weighted_cycle: bool = False
    lambda_cyc: float = 10.0
    lambda_id: float = 0.5
    d_steps: int = 1
    pool: int = 50
    decay_from: float = 0.5
    batch: int = 1
    augment: str | None = None
    augment_args: dict = field(default_factory=dict)
    seed: int = 0


def run_key(spec, *data: str, metrics: Metrics | None = None, **more) -> dict[str, Any]:
    """What names a run's folder: the spec's fields, the data's fingerprints, the names of the
    per-epoch metrics (their values are in the history) and anything else that defines it."""
    return {**asdict(spec), "kind": type(spec).__name__, "data": list(data), "metrics": sorted(metrics or {}), **more}


def epoch_size(n: int, batch: int, epoch_share: float | None) -> int | None:
    """How many of a run's ``n`` images one epoch draws when it draws ``epoch_share`` of them:
    None (every image) for a share of 1 or more; never fewer than one batch."""
    if epoch_share is None or epoch_share >= 1:
        return None
    if not epoch_share > 0:
        raise ValueError(f"epoch_share must be in (0, 1]; got {epoch_share}")
    size = max(min(batch, n), round(n * epoch_share))
    return None if size >= n else size


def _sized(key: dict, size: int | None) -> dict:
    # a run that draws part of its data per epoch is another run (only then: the key of a run
    # on all of its data is unchanged, and so is its folder)
    return key if size is None else {**key, "epoch_images": size}


def _snapshot_every(epochs: int) -> int:
    return max(1, epochs // 25)  # about 25 frames however long the run


def _augment(spec, trainer) -> None:
    if spec.augment is not None:
        trainer.augment = make_augment(spec.augment, trainer.gen, **spec.augment_args)


@singledispatch
def fit(spec, data, epochs: int, **kw):
    """Train the run ``spec`` on ``data`` until ``epochs`` epochs are done in all (resuming its
    checkpoint); returns the trainer. One registered function per kind of spec."""
    raise TypeError(f"fit takes a GANSpec, ClassifierSpec or CycleGANSpec; got {type(spec).__name__}")


@fit.register
def fit_gan(spec: GANSpec, data: ImageSet, epochs: int, *, metrics: Metrics | None = None, device="auto",
            run_root=None, epoch_share: float | None = None, fresh: bool = False) -> GANTrainer:
    """A GAN on ``data`` (conditional on its labels when ``spec.conditional``). ``metrics``:
    per-epoch measures (name → function of the trainer), as :meth:`Trainer.fit` takes them.
    ``epoch_share``: each epoch draws this share of ``data`` afresh (None: all of it)."""
    k = len(data.classes) if spec.conditional else 0
    batch = min(spec.batch, len(data))
    size = epoch_size(len(data), batch, epoch_share)
    key = _sized(run_key(spec, data.fingerprint(), metrics=metrics, **({} if spec.decay_from is None else
                                                                    {"epochs": epochs})), size)
    seed_everything(spec.seed)  # initial weights follow the seed
    G = define_G(spec.arch, data.shape, k, nz=spec.nz, **spec.g_args)
    D = define_D(spec.arch, data.shape, k, **spec.d_args)
    t = GANTrainer(G, D, loss=make_loss(spec.loss, **spec.loss_args), nz=spec.nz, num_classes=k, lr_g=spec.lr_g,
                   lr_d=spec.lr_d, betas=tuple(spec.betas), d_steps=spec.d_steps, n_fixed=spec.n_fixed, ema=spec.ema, seed=spec.seed,
                   epochs=epochs, decay_from=spec.decay_from,
                   device=device, name=spec.name, config=key, snapshot_every=_snapshot_every(epochs),
                   checkpoint_dir=run_dir(run_root, spec.name, key))
    _augment(spec, t)
    t.fit(BatchSource(data.x, data.y, batch_size=batch, epoch_size=size), epochs, metrics=metrics, fresh=fresh)
    return t


def class_weights(data: ImageSet) -> torch.Tensor:
    """Cross-entropy weights n / (k · n_c): every class weighs as much in the loss as if the
    classes were balanced (scikit-learn's "balanced")."""
    counts = torch.tensor(data.counts(), dtype=torch.float32)
    if (counts == 0).any():
        missing = [data.classes[i] for i in torch.nonzero(counts == 0).flatten().tolist()]
        raise ValueError(f"{data.source}: no training images of {missing}; a class weight would be infinite")
    return counts.sum() / (len(counts) * counts)


def validation(val: ImageSet) -> Metrics:
    """The per-epoch validation loss and accuracy on ``val``, from one pass."""
    def measure(t: ClassifierTrainer) -> dict[str, float]:
        logits = predict(t.model, val.x)
        return {"val_loss": float(cross_entropy(logits, val.y)), "val_acc": float((logits.argmax(1) == val.y).float().mean())}

    return {"validation": measure}


@fit.register
def fit_classifier(spec: ClassifierSpec, data: ImageSet, epochs: int, *, val: ImageSet | None = None,
                   metrics: Metrics | None = None, device="auto", run_root=None, epoch_share: float | None = None,
                   fresh: bool = False) -> ClassifierTrainer:
    """A classifier on ``data``; records train loss and accuracy every epoch, with ``val`` the
    validation loss and accuracy, and any other ``metrics``. ``epoch_share``: as for a GAN."""
    metrics = {**(validation(val) if val is not None else {}), **(metrics or {})}
    batch = min(spec.batch, len(data))
    size = epoch_size(len(data), batch, epoch_share)
    key = _sized(run_key(spec, data.fingerprint(), *([val.fingerprint()] if val is not None else []), metrics=metrics), size)
    seed_everything(spec.seed)
    model = define_classifier(spec.arch, data.shape, len(data.classes), **spec.arch_args)
    t = ClassifierTrainer(model, lr=spec.lr, seed=spec.seed, device=device, name=spec.name, config=key,
                          class_weights=class_weights(data) if spec.balanced else None,
                          checkpoint_dir=run_dir(run_root, spec.name, key))
    _augment(spec, t)
    t.fit(BatchSource(data.x, data.y, batch_size=batch, epoch_size=size), epochs, metrics=metrics or None,
          fresh=fresh)
    return t


@fit.register
def fit_cyclegan(spec: CycleGANSpec, data: tuple, epochs: int, *, fixed: torch.Tensor | None = None,
                 device="auto", run_root=None, epoch_share: float | None = None, fresh: bool = False) -> CycleGANTrainer:
    """A CycleGAN between the images ``data = (A, B)`` (tensors of one shape per image); ``fixed``:
    images of A whose translations are drawn after each epoch. ``epoch_share``: each epoch
    translates this share of A, drawn afresh (None: all of it)."""
    A, B = data
    batch = min(spec.batch, len(A))
    size = epoch_size(len(A), batch, epoch_share)
    key = _sized(run_key(spec, tensor_fingerprint(A), tensor_fingerprint(B), epochs=epochs), size)
    seed_everything(spec.seed)
    shape = tuple(A.shape[1:])
    nets = (define_G(spec.generator, shape, **spec.g_args), define_G(spec.generator, shape, **spec.g_args),
            define_D(spec.discriminator, shape, **spec.d_args), define_D(spec.discriminator, shape, **spec.d_args))
    t = CycleGANTrainer(*nets, B, epochs=epochs, loss=make_loss(spec.loss, **spec.loss_args), lr_g=spec.lr_g,
                        lr_d=spec.lr_d, weighted_cycle=spec.weighted_cycle, lambda_cyc=spec.lambda_cyc,
                        lambda_id=spec.lambda_id, d_steps=spec.d_steps, pool=spec.pool, decay_from=spec.decay_from,
                        fixed=fixed, seed=spec.seed, device=device, name=spec.name, config=key,
                        snapshot_every=_snapshot_every(epochs), checkpoint_dir=run_dir(run_root, spec.name, key))
    _augment(spec, t)
    t.fit(BatchSource(A, batch_size=batch, epoch_size=size), epochs, fresh=fresh)
    return t


def _train_only(spec, data, epochs: int, kw: dict) -> None:
    fit(spec, data, epochs, **kw)  # the run's checkpoint is the result


def fit_many(jobs: dict, *, workers: int | None = None, device="auto", run_root=None, epoch_share: float | None = None,
             fresh: bool = False) -> dict:
    """Train independent runs at once and return their trainers, as :func:`fit` would, in the
    order given. ``jobs``: name → ``(spec, data, epochs)`` or ``(spec, data, epochs, kwargs)``,
    kwargs being what that kind of :func:`fit` takes besides the arguments here (``metrics``,
    ``val``, ``fixed``).

    On a CPU with more than one core each run trains in a worker process of its own
    (:func:`labkit.parallel.run_many`: at most ``workers`` at once, by default one per core, or
    all when they are fewer than twice the cores: :func:`labkit.parallel.workers`; one thread
    each), and is then loaded here from its finished checkpoint; elsewhere, or with ``workers=1``, they train here one after another. Either way every run has
    its usual folder, so a run that finished is not trained again, and one that was stopped
    continues."""
    from labkit.parallel import at_once, on_cpu, run_many

    common = dict(run_root=run_root, epoch_share=epoch_share)
    items = {}
    for name, job in jobs.items():
        if not isinstance(job, tuple) or len(job) not in (3, 4):
            raise TypeError(f"fit_many: job {name!r} must be (spec, data, epochs) or (spec, data, epochs, kwargs); "
                            f"got {type(job).__name__}")
        items[name] = (*job[:3], {**(job[3] if len(job) == 4 else {}), **common})
    in_workers = at_once(len(items), workers, parallel=on_cpu(device)) > 1  # on one GPU: one after another
    if in_workers:
        run_many(_train_only, {k: (*job[:3], {**job[3], "device": "cpu", "fresh": fresh}) for k, job in items.items()},
                 n_workers=workers, what="training runs")
    # load each run the workers finished, or train it here
    return {k: fit(spec, data, epochs, device=device, fresh=fresh and not in_workers, **kw)
            for k, (spec, data, epochs, kw) in items.items()}
