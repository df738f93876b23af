"""Networks, one module per family, and the helpers every family shares."""
from labkit.models.common import count_params, init_weights, parameter_table
from labkit.models.cyclegan import PatchDiscriminator, ResnetGenerator
from labkit.models.fer_classifiers import SimpleFERNet, SurrealFERNet
from labkit.models.fer_paper000 import Paper000CNN, Paper000Discriminator, Paper000Generator
from labkit.models.fid_inception import FIDInceptionV3
from labkit.models.fruits import FruitNet
from labkit.models.lenet import LeNet
from labkit.models.mnist_gan import MnistDiscriminator, MnistGenerator, VirtualBatchNorm
from labkit.models.radford import RadfordDiscriminator, RadfordGenerator

__all__ = [
    "count_params", "init_weights", "parameter_table",
    "LeNet", "MnistGenerator", "MnistDiscriminator", "VirtualBatchNorm", "SimpleFERNet", "SurrealFERNet",
    "Paper000CNN", "Paper000Generator", "Paper000Discriminator", "RadfordGenerator", "RadfordDiscriminator",
    "FruitNet", "FIDInceptionV3", "ResnetGenerator", "PatchDiscriminator",
]
