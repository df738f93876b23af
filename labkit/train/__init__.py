"""Training: one small core (:mod:`labkit.train.core`) and the trainers built on it."""
from labkit.train.classifier import ClassifierTrainer, evaluate, predict
from labkit.train.core import (BatchSource, CheckpointError, DivergenceError, NonFiniteLossError, Trainer, atomic_save,
                               run_dir, runs_root)
from labkit.train.cyclegan import CycleGANTrainer, ImagePool
from labkit.train.gan import GANTrainer

__all__ = [
    "Trainer", "BatchSource", "atomic_save", "runs_root", "NonFiniteLossError", "DivergenceError", "CheckpointError", "run_dir",
    "GANTrainer", "ClassifierTrainer", "CycleGANTrainer", "ImagePool", "evaluate", "predict",
]
