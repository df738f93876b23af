"""The quick profile really learns: a class-conditional GAN trained with the chapter's quick
settings draws digits that LeNet recognises far above chance; an untrained one cannot."""
import pytest

from labkit.experiments import mnist as ch
from labkit.losses import BCELoss
from labkit.metrics import classifier_score
from labkit.models import MnistDiscriminator, MnistGenerator
from labkit.runs import fit
from labkit.train import GANTrainer, evaluate


@pytest.mark.slow
def test_quick_ccgan_beats_an_untrained_generator_by_far():
    from labkit.data.mnist import load_mnist

    P = ch.SPEC.resolve()  # the quick profile
    train, test = load_mnist(None, "train", quiet=True), load_mnist(None, "test", quiet=True)
    lenet = fit(ch.lenet_spec(), train, P.lenet_epochs, device="cpu").model.eval()
    assert evaluate(lenet, test.x, test.y) > 0.93
    labels = ch.balanced_labels(10, 50)

    untrained = GANTrainer(MnistGenerator(F=P.F, num_classes=10), MnistDiscriminator(F=P.F, num_classes=10),
                           num_classes=10, loss=BCELoss(), device="cpu")
    spec = ch.gan_spec(F=P.F, D=P.D, B=P.batch_ccgan, lr=P.lr_ccgan, conditional=True, real_target=P.real_target)
    trained = fit(spec, train, P.gan_epochs, device="cpu")
    before = classifier_score(lenet, untrained.generate(500, labels), labels).accuracy
    after = classifier_score(lenet, trained.generate(500, labels), labels).accuracy
    assert before < 0.25
    assert after > 0.6
