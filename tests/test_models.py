import pytest
import torch

from labkit.models import LeNet, MnistDiscriminator, MnistGenerator, VirtualBatchNorm, count_params, init_weights


def test_generator_has_exactly_the_papers_parameter_count():
    c = count_params(MnistGenerator(F=1))
    assert c["keras"] == 6_768_129  # paper 004, F = 1, with batch-norm moving statistics
    assert c["torch"] == 6_753_409
    assert c["keras_non_trainable"] == 2 * (1024 + 6272 + 64)


def test_discriminator_and_conditional_counts():
    assert count_params(MnistDiscriminator(F=1, depth=1))["keras"] == 307_745  # paper: 307,737
    assert count_params(MnistDiscriminator(F=1, depth=2))["keras"] == 307_745 + 9 * 128 * 128 + 128 + 4 * 128
    assert count_params(MnistGenerator(F=1, num_classes=10))["keras"] == 6_768_129 + 10 * 1024
    assert count_params(MnistDiscriminator(F=1, num_classes=10))["keras"] == 307_745 + (10 * 784 + 784) + 25 * 64


def test_lenet_count_is_kerass_mnist_cnn():
    assert count_params(LeNet())["torch"] == 1_199_882


@pytest.mark.parametrize("F", [0.25, 1, 2])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("k", [0, 10])
def test_shapes(F, depth, k):
    G, D = MnistGenerator(F=F, num_classes=k), MnistDiscriminator(F=F, depth=depth, num_classes=k)
    z, y = torch.randn(3, 100), torch.tensor([0, 4, 9])
    x = G(z, y if k else None)
    assert x.shape == (3, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert D(x, y if k else None).shape == (3,)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="class-conditional"):
        MnistGenerator(num_classes=10)(torch.randn(2, 100))
    with pytest.raises(ValueError, match="28x28"):
        MnistDiscriminator()(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="depth D must be >= 1"):
        MnistDiscriminator(depth=0)
    with pytest.raises(ValueError, match="capacity F must be positive"):
        MnistGenerator(F=0)


def test_virtual_batch_norm_with_whole_batch_equals_batch_norm():
    torch.manual_seed(0)
    x = torch.randn(16, 4, 5, 5) * 3 + 2
    vbn, bn = VirtualBatchNorm(4, ref_fraction=1.0), torch.nn.BatchNorm2d(4)
    assert torch.allclose(vbn(x), bn(x), atol=1e-5)
    assert torch.allclose(vbn.running_mean, bn.running_mean, atol=1e-5)
    assert torch.allclose(vbn.running_var, bn.running_var, atol=1e-5)
    vbn.eval(), bn.eval()
    assert torch.allclose(vbn(x), bn(x), atol=1e-5)


def test_virtual_batch_norm_uses_the_reference_half_only():
    torch.manual_seed(0)
    x = torch.randn(8, 3)
    vbn = VirtualBatchNorm(3, ref_fraction=0.5)
    torch.manual_seed(5)
    out = vbn(x)
    torch.manual_seed(5)
    ref = x[torch.randperm(8)[:4]]
    expected = (x - ref.mean(0)) / torch.sqrt(ref.var(0, unbiased=False) + 1e-5)
    assert torch.allclose(out, expected, atol=1e-5)
    assert count_params(torch.nn.Sequential(vbn))["keras"] == 4 * 3


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    model = init_weights(torch.nn.Sequential(torch.nn.Conv2d(64, 128, 4), torch.nn.BatchNorm2d(4096)), "dcgan")
    w, g = model[0].weight, model[1].weight
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3
    assert abs(g.mean().item() - 1) < 2e-3 and abs(g.std().item() - 0.02) < 2e-3
    assert model[0].bias.abs().sum() == 0 and model[1].bias.abs().sum() == 0
    with pytest.raises(ValueError, match="scheme"):
        init_weights(model, "he")


@pytest.mark.parametrize("p", [0.25, 0.5])
@pytest.mark.parametrize("channels_last", [False, True])
def test_dropout_keeps_one_minus_p_scaled_to_keep_the_mean(p, channels_last):
    from labkit.models.common import Dropout

    x = torch.ones(64, 16, 23, 23)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    x.requires_grad_(True)
    torch.manual_seed(0)
    y = Dropout(p)(x)
    kept = y != 0
    assert y.unique().tolist() == [0.0, pytest.approx(1 / (1 - p))]
    assert abs(kept.float().mean().item() - (1 - p)) < 0.005  # 541,696 elements: the share is within ±0.5 points
    assert y.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d(x · mask)/dx = mask, the same 0 or 1 / (1 - p)
    # torch's generator draws the mask: the same seed gives the same mask, another seed another
    torch.manual_seed(0)
    assert torch.equal(Dropout(p)(x.detach()), y.detach())
    assert not torch.equal(Dropout(p)(x.detach()), y.detach())


def test_dropout_is_the_identity_in_evaluation_and_torchs_elsewhere():
    from labkit.models.common import Dropout

    x = torch.randn(8, 3, 5, 5)
    d = Dropout(0.5).eval()
    assert torch.equal(d(x), x)
    strided = torch.randn(8, 3, 5, 10)[..., ::2]  # not dense: torch's own dropout
    d.train()
    torch.manual_seed(1)
    ours = d(strided)
    torch.manual_seed(1)
    assert torch.equal(ours, torch.nn.functional.dropout(strided, 0.5, True))
    assert torch.equal(Dropout(0.0)(x), x)
    assert torch.equal(Dropout(1.0)(x), torch.zeros_like(x))
    for p in (0.001, 0.999):  # within 1/512 of 0 or 1 a byte cannot say it: torch's own dropout
        torch.manual_seed(2)
        ours = Dropout(p)(x)
        torch.manual_seed(2)
        assert torch.equal(ours, torch.nn.functional.dropout(x, p, True))
