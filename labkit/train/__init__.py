"""Training: one small core (:mod:`labkit.train.core`) and the trainers built on it."""
from labkit.train.classifier import ClassifierTrainer, evaluate, predict
from labkit.train.core import BatchSource, NonFiniteLossError, Trainer, atomic_save, run_dir
from labkit.train.gan import GANTrainer

__all__ = [
    "Trainer", "BatchSource", "atomic_save", "NonFiniteLossError", "run_dir",
    "GANTrainer", "ClassifierTrainer", "evaluate", "predict",
]
