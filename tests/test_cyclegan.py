"""Paper 001's CycleGAN pieces: the networks, the weighted cycle loss, the image pool, SSIM, the
trainer's schedules and Part B's filter."""
import pytest
import torch
from torch import nn

from labkit.losses import weighted_cycle_loss
from labkit.metrics import nearest_ssim, ssim
from labkit.models import PatchDiscriminator, ResnetGenerator, count_params
from labkit.train import CycleGANTrainer, ImagePool


def test_generator_and_discriminator_shapes_for_48x48_grey():
    G, D = ResnetGenerator(1, F=1.0, blocks=6), PatchDiscriminator(1, F=1.0)
    x = torch.randn(2, 1, 48, 48)
    assert G(x).shape == (2, 1, 48, 48) and G(x).abs().max() <= 1  # tanh output
    assert D(x).shape == (2, 1, 4, 4) and D.features(x).shape == (2, 512, 5, 5)
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in G.modules()) == 2 + 2 + 6 * 2 + 1  # stem, down, blocks, up
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in G.modules()) == 2 + 6 * 2
    # CycleGAN's 6-block generator, counted by hand: 7x7 stem, two downsamplings, 6 blocks of two 3x3, two up, 7x7 out
    c = 64
    hand = (49 * c + c) + (9 * c * 2 * c + 2 * c) + (9 * 2 * c * 4 * c + 4 * c) + 6 * 2 * (9 * 16 * c * c + 4 * c) \
        + (9 * 4 * c * 2 * c + 2 * c) + (9 * 2 * c * c + c) + (49 * c + 1)
    assert count_params(G)["torch"] == hand == 7_825_153
    with pytest.raises(ValueError, match="multiples of 4"):
        G(torch.randn(1, 1, 50, 50))


class ToyD(nn.Module):
    """A discriminator with known outputs: score = per-image constant, features = 2 × image."""

    def __init__(self, score):
        super().__init__()
        self.score = score

    def forward(self, x):
        return self.score.view(-1, 1, 1, 1).expand(len(x), 1, 2, 2)

    def features(self, x):
        return 2 * x


def test_weighted_cycle_loss_against_a_hand_computation():
    real = torch.zeros(2, 1, 2, 2)
    rec = torch.tensor([[0.1, 0.1, 0.1, 0.1], [0.2, -0.2, 0.2, -0.2]]).view(2, 1, 2, 2)
    D = ToyD(torch.tensor([0.5, 1.5]))  # the second score is clamped to 1
    pixel = torch.tensor([0.1, 0.2])  # mean |rec − real| per image
    feature = 2 * pixel  # features are 2 × the image
    weight = torch.tensor([0.5, 1.0])
    for gamma in (0.0, 0.5, 1.0):
        want = (weight * (gamma * feature + (1 - gamma) * pixel)).mean()
        assert weighted_cycle_loss(real, rec, D, gamma).item() == pytest.approx(want.item(), rel=1e-6)
    assert weighted_cycle_loss(real, rec, D, 0.0).item() == pytest.approx((0.5 * 0.1 + 1.0 * 0.2) / 2)
    with pytest.raises(ValueError, match="gamma must be in"):
        weighted_cycle_loss(real, rec, D, 1.5)


def test_weighted_cycle_loss_sends_gradient_to_the_recovered_image_only():
    real = torch.randn(3, 1, 48, 48)
    rec = torch.randn(3, 1, 48, 48, requires_grad=True)
    D = PatchDiscriminator(1, F=0.125)
    nn.init.constant_(D.head.bias, 0.5)  # scores near 0.5, so every image has a weight
    weighted_cycle_loss(real, rec, D, 0.5).backward()
    assert rec.grad is not None and rec.grad.abs().sum() > 0


def test_image_pool_fills_then_swaps_half_the_time():
    pool = ImagePool(4, generator=torch.Generator().manual_seed(0))
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool(first), first) and len(pool.images) == 4
    swapped = 0
    for i in range(200):
        new = torch.full((1, 1, 1, 1), 100.0 + i)
        out = pool(new)
        swapped += int(out.item() != new.item())
    assert 70 < swapped < 130  # about half come from the pool
    assert len(pool.images) == 4
    assert torch.equal(ImagePool(0)(first), first)


def test_ssim_identity_and_a_known_value():
    x = torch.rand(3, 1, 24, 24) * 2 - 1
    assert torch.allclose(ssim(x, x), torch.ones(3))
    flat = torch.zeros(1, 1, 24, 24)
    # two constant images a and b: SSIM = (2ab + C1) / (a² + b² + C1), C1 = (0.02)²
    a, b, c1 = 0.5, -0.5, 0.02**2
    assert ssim(flat + a, flat + b).item() == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-4)
    real = torch.rand(20, 1, 24, 24) * 2 - 1
    near = nearest_ssim(torch.cat([real[:2], torch.rand(2, 1, 24, 24) * 2 - 1]), real)
    assert near[:2].tolist() == pytest.approx([1.0, 1.0]) and (near[2:] < 0.5).all()


def test_cyclegan_schedules_and_a_resumed_run_is_exact(tmp_path):
    torch.manual_seed(0)
    A, B = torch.rand(16, 1, 48, 48) * 2 - 1, torch.rand(12, 1, 48, 48) * 2 - 1

    def make(epochs, ckpt):
        torch.manual_seed(0)
        nets = (ResnetGenerator(1, 0.125, 1), ResnetGenerator(1, 0.125, 1), PatchDiscriminator(1, 0.125), PatchDiscriminator(1, 0.125))
        return CycleGANTrainer(*nets, B, epochs=4, weighted_cycle=True, fixed=A[:2], device="cpu", checkpoint_dir=ckpt,
                               config={"t": 1})

    from labkit.train import BatchSource
    t = make(4, None)
    gammas, lrs = [], []
    for e in range(4):
        t.epoch = e
        gammas.append(t.gamma())
        lrs.append(t.lr_factor())
    assert gammas == pytest.approx([0, 1 / 3, 2 / 3, 1]) and lrs == pytest.approx([1, 1, 1, 0.5])
    t.epoch = 0
    whole = make(4, tmp_path / "a")
    whole.fit(BatchSource(A, batch_size=8), 4)
    part = make(4, tmp_path / "b")
    part.fit(BatchSource(A, batch_size=8), 2)
    again = make(4, tmp_path / "b")
    again.fit(BatchSource(A, batch_size=8), 4)
    assert again.resumed_from == 2
    for k in whole.models:
        for p, q in zip(whole.models[k].parameters(), again.models[k].parameters()):
            assert torch.equal(p, q)
    assert whole.snapshot().dtype == torch.uint8 and len(whole.pool_A.images) == 50  # 64 fakes seen, the pool holds 50


def test_part_b_filter_keeps_confident_faces():
    from labkit.experiments import cyclegan as ch

    class Judge(nn.Module):
        """Calls an image neutral (class 1) when its mean is above 0; features = the mean."""

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def features(self, x):
            return x.flatten(1).mean(1, keepdim=True)

        def forward(self, x):
            m = self.features(x)
            return torch.cat([-20 * m, 20 * m], 1)

    g = torch.Generator().manual_seed(0)
    real = torch.rand(50, 1, 8, 8, generator=g) * 0.4 + 0.1  # textured, means 0.2–0.4
    fake = torch.cat([real[:5] + 0.01, -real[:5], torch.zeros(3, 1, 8, 8)])  # faces, non-neutral faces, blanks
    kept, counts, p = ch.filter_neutral(fake, real, Judge(), neutral=1, confidence=0.9)
    assert kept.tolist() == [True] * 5 + [False] * 8
    assert counts["generated"] == 13 and counts["and neutral with p ≥ 0.9"] == 5


def test_extra_critic_steps_draw_from_all_of_domain_a():
    """With several critic steps, the steps after the first see fresh images of A, not the
    generator step's batch again."""
    from labkit.losses import WGANGPLoss
    from labkit.train import BatchSource

    A = torch.arange(40, dtype=torch.float32).view(40, 1, 1, 1).expand(40, 1, 8, 8).clone() / 40
    B = torch.zeros(10, 1, 8, 8)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))

        def forward(self, x):
            return self.w * x.flatten(1).mean(1)

        def features(self, x):
            return x

    class SpyA(Spy):
        def forward(self, x):
            if x.requires_grad is False:
                seen.append(x[:, 0, 0, 0].clone())
            return super().forward(x)

    G = nn.Sequential(nn.Conv2d(1, 1, 1))
    F = nn.Sequential(nn.Conv2d(1, 1, 1))
    t = CycleGANTrainer(G, F, SpyA(), Spy(), B, epochs=1, loss=WGANGPLoss(10.0), d_steps=4, pool=0, lambda_id=0,
                        device="cpu")
    t.fit(BatchSource(A, batch_size=4), 1)
    real_a = seen[::2]  # each critic step reads real A first, then the generated faces
    assert len(real_a) == 10 * 4  # 10 generator steps of 4 critic steps
    outside = 0
    for step in range(10):
        first, extra = real_a[4 * step], torch.cat(real_a[4 * step + 1 : 4 * step + 4])
        outside += int((~torch.isin(extra, first)).any())
    assert outside >= 9  # the extra steps' images come from all 40, not from the step's batch of 4


def test_part_b_filter_calibrated_on_real_neutral_faces():
    """With a reference set, the bar is a quantile of the classifier's neutral probability on
    real neutral faces: half of them pass the median, and fakes pass only when as sure."""
    from labkit.experiments import cyclegan as ch

    class Judge(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def features(self, x):
            return torch.zeros(len(x), 1)  # every image is as near a real face as real faces are

        def forward(self, x):
            m = x.flatten(1).mean(1, keepdim=True)
            return torch.cat([torch.zeros_like(m), m], 1)  # p(neutral) = sigmoid(mean)

    g = torch.Generator().manual_seed(1)
    pattern = torch.rand(1, 1, 8, 8, generator=g) * 0.5 - 0.25  # one texture: every image has the same contrast
    real = pattern + torch.linspace(-0.5, 0.5, 101).view(101, 1, 1, 1)
    p_real = torch.sigmoid(real.flatten(1).mean(1))
    kept, counts, _ = ch.filter_neutral(real, real, Judge(), neutral=1, confidence=0.5, reference=real)
    assert kept.sum() == 51  # at or above the median of 101 values
    assert kept.tolist() == (p_real >= p_real.median()).tolist()
    label = next(k for k in counts if k.startswith("and neutral"))
    assert label.endswith("(the 50% quantile of real neutral faces)") and f"{p_real.median().item():.3f}" in label
