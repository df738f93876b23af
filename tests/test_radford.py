import pytest
import torch

from labkit.models import count_params
from labkit.experiments.radford import map_sizes as generator_sides
from labkit.models.radford import RadfordDiscriminator, RadfordGenerator


def map_sizes(G, z):
    sizes, x = [], z.view(len(z), -1, 1, 1)
    for m in G.net:
        x = m(x)
        if isinstance(m, torch.nn.ConvTranspose2d):
            sizes.append(x.shape[-1])
    return sizes


def test_64x64x3_is_the_papers_layer_list():
    G, D = RadfordGenerator(), RadfordDiscriminator()
    # conv weights: 100·512·16 + 512·256·16 + 256·128·16 + 128·64·16 + 64·3·16, batch norm 2·(512+256+128+64)
    assert count_params(G)["torch"] == 3_576_704
    # 3·64·16 + 64·128·16 + 128·256·16 + 256·512·16 + 512·16, batch norm 2·(128+256+512)
    assert count_params(D)["torch"] == 2_765_568
    assert count_params(G)["keras"] == 3_576_704 + 1_920 and count_params(D)["keras"] == 2_765_568 + 1_792
    assert map_sizes(G, torch.randn(2, 100)) == [4, 8, 16, 32, 64]
    x = G(torch.randn(2, 100))
    assert x.shape == (2, 3, 64, 64) and x.abs().max() <= 1
    assert D(x).shape == (2,)
    convs = [m for m in list(G.modules()) + list(D.modules()) if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert len(convs) == 10 and all(m.bias is None for m in convs)
    # batch norm everywhere except the generator's output and the discriminator's input layer
    assert not isinstance(D.net[1], torch.nn.BatchNorm2d) and isinstance(D.net[3], torch.nn.BatchNorm2d)
    assert isinstance(G.net[-1], torch.nn.Tanh) and isinstance(G.net[-2], torch.nn.ConvTranspose2d)
    slopes = {m.negative_slope for m in D.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2}


def test_48x48x1_changes_only_the_end_layers():
    G, D = RadfordGenerator(channels=1, size=48), RadfordDiscriminator(channels=1, size=48)
    assert map_sizes(G, torch.randn(2, 100)) == [3, 6, 12, 24, 48]
    assert G.net[0].kernel_size == (3, 3) and D.net[-1].kernel_size == (3, 3)
    big_G, big_D = RadfordGenerator(), RadfordDiscriminator()
    differ = [n for (n, a), (_, b) in zip(G.named_parameters(), big_G.named_parameters()) if a.shape != b.shape]
    assert differ == ["net.0.weight", "net.12.weight"]
    differ = [n for (n, a), (_, b) in zip(D.named_parameters(), big_D.named_parameters()) if a.shape != b.shape]
    assert differ == ["net.0.weight", "net.11.weight"]
    assert count_params(G)["torch"] == 3_576_704 - 100 * 512 * 7 - 64 * 2 * 16
    assert count_params(D)["torch"] == 2_765_568 - 2 * 64 * 16 - 512 * 7
    assert D(G(torch.randn(3, 100))).shape == (3,)
    with pytest.raises(ValueError, match="48x48 images"):
        D(torch.randn(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"\[32, 48, 64, 96\]-pixel square images .*got 40"):
        RadfordGenerator(size=40)


def test_radford_other_sizes_follow_the_same_rule():
    """32×32 drops the widest layer (256-128-64, as Radford's CIFAR models); 96×96 starts at 6×6."""
    for size, g_params, d_params in ((32, 1_068_928, 663_296), (96, 4_600_704, 2_775_808)):
        G, D = RadfordGenerator(channels=3, size=size), RadfordDiscriminator(channels=3, size=size)
        assert generator_sides(G) == ([4, 8, 16, 32] if size == 32 else [6, 12, 24, 48, 96])
        assert count_params(G)["torch"] == g_params and count_params(D)["torch"] == d_params
        assert D(G(torch.randn(2, 100))).shape == (2,)


def test_dcgan_weight_initialisation():
    torch.manual_seed(0)
    G, D = RadfordGenerator(), RadfordDiscriminator()
    conv = torch.cat([m.weight.flatten() for m in list(G.modules()) + list(D.modules())
                      if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))])
    assert abs(conv.mean().item()) < 1e-3 and conv.std().item() == pytest.approx(0.02, rel=0.02)
    bn = [m for m in list(G.modules()) + list(D.modules()) if isinstance(m, torch.nn.BatchNorm2d)]
    scale = torch.cat([m.weight.detach() for m in bn])
    assert scale.mean().item() == pytest.approx(1.0, abs=0.003) and scale.std().item() == pytest.approx(0.02, rel=0.1)
    assert all(torch.count_nonzero(m.bias) == 0 for m in bn)


def test_class_conditional_variant():
    G = RadfordGenerator(channels=1, size=48, F=0.125, num_classes=7)
    D = RadfordDiscriminator(channels=1, size=48, F=0.125, num_classes=7)
    y = torch.tensor([0, 3, 6])
    x = G(torch.randn(3, 100), y)
    assert x.shape == (3, 1, 48, 48) and D(x, y).shape == (3,)
    with pytest.raises(ValueError, match="class-conditional"):
        G(torch.randn(3, 100))
