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
    """A discriminator whose outputs depend on its input, simple enough to compute by hand:
    patch scores = ``scale`` × image (its mean score: 2 × the image mean), features = the image
    and its square as two channels, times ``f``."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.f = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        return self.scale * x

    def features(self, x):
        return self.f * torch.cat([x, x**2], 1)


def _cycle_case():
    """Three 1×2×2 images a and their recoveries F(G(a)), with what the loss needs, by hand."""
    real = torch.tensor([[0.1, 0.2, 0.3, 0.4],       # mean 0.25: score 0.5, the weight
                         [-0.5, -0.1, -0.3, -0.1],   # mean -0.25: score -0.5, clamped up to 0
                         [0.5, 0.7, 0.9, 0.7]])      # mean 0.7: score 1.4, clamped down to 1
    rec = torch.tensor([[0.6, 0.0, 0.3, 0.6],        # scores on rec (0.75, 1, 0.7) differ from those on real
                        [0.5, 0.5, 0.5, 0.5],
                        [-0.5, 0.7, 0.9, 0.3]])
    # |rec − real|: (0.5, 0.2, 0, 0.2), (1, 0.6, 0.8, 0.6), (1, 0, 0, 0.4); mean over the 4 pixels
    pixel = torch.tensor([0.9 / 4, 3.0 / 4, 1.4 / 4])
    # |rec² − real²|: (0.35, 0.04, 0, 0.2), (0, 0.24, 0.16, 0.24), (0, 0, 0, 0.4); features hold both
    # the image and its square, so the feature term is the mean over 8 values
    feature = torch.tensor([(0.9 + 0.59) / 8, (3.0 + 0.64) / 8, (1.4 + 0.4) / 8])
    weight = torch.tensor([0.5, 0.0, 1.0])
    return real.view(3, 1, 2, 2), rec.view(3, 1, 2, 2), pixel, feature, weight


def test_weighted_cycle_loss_against_a_hand_computation():
    real, rec, pixel, feature, weight = _cycle_case()
    D = ToyD()
    for gamma in (0.0, 0.25, 0.5, 1.0):
        want = (weight * (gamma * feature + (1 - gamma) * pixel)).mean()
        assert weighted_cycle_loss(real, rec, D, gamma).item() == pytest.approx(want.item(), rel=1e-6), gamma
    # the same, written out: 0.5 · 0.225 + 0 · 0.75 + 1 · 0.35 over 3 images, and the feature end
    assert weighted_cycle_loss(real, rec, D, 0.0).item() == pytest.approx((0.5 * 0.225 + 0.35) / 3, rel=1e-6)
    assert weighted_cycle_loss(real, rec, D, 1.0).item() == pytest.approx((0.5 * 1.49 / 8 + 1.8 / 8) / 3, rel=1e-6)
    with pytest.raises(ValueError, match="gamma must be in"):
        weighted_cycle_loss(real, rec, D, 1.5)
    with pytest.raises(ValueError, match="gamma must be in"):
        weighted_cycle_loss(real, rec, D, -0.1)
    with pytest.raises(ValueError, match="one shape"):
        weighted_cycle_loss(real, rec[:2], D, 0.5)


def test_weighted_cycle_loss_sends_gradient_to_the_recovered_image_only():
    """D(a) and f_D(a) are targets: no gradient reaches D's score or a through them. The
    gradients on F(G(a)), on a and on D's feature scale match the closed form."""
    real, rec, _, _, weight = _cycle_case()
    for gamma in (0.0, 0.5, 1.0):
        D = ToyD()
        a, r = real.clone().requires_grad_(True), rec.clone().requires_grad_(True)
        weighted_cycle_loss(a, r, D, gamma).backward()
        w = weight.view(3, 1, 1, 1)
        s_pix = torch.sign(rec - real)
        s_sq = torch.sign(rec**2 - real**2)
        # d/d rec of w · (γ · mean_8 |f_D(rec) − f_D(real)| + (1 − γ) · mean_4 |rec − real|), averaged over 3 images
        want_rec = w / 3 * ((1 - gamma) * s_pix / 4 + gamma * (s_pix + s_sq * 2 * rec) / 8)
        assert torch.allclose(r.grad, want_rec, atol=1e-7), gamma
        # a is reached at most by the pixel term's −a (so not at all at γ = 1), never through D(a) or f_D(a)
        want_real = -w / 3 * (1 - gamma) * s_pix / 4
        assert a.grad is None or torch.allclose(a.grad, want_real, atol=1e-7), gamma
        assert D.scale.grad is None  # the weight D(a) is a constant
        # the feature scale is reached through f_D(rec) only: d/df of |f·rec − real| is sign · rec
        want_f = (weight * gamma * (s_pix * rec + s_sq * rec**2).flatten(1).sum(1) / 8).sum() / 3
        if gamma == 0:
            assert D.f.grad is None or D.f.grad.item() == 0
        else:
            assert D.f.grad.item() == pytest.approx(want_f.item(), rel=1e-6), gamma
    # a real PatchGAN: the weight reaches the generators, and D's score takes no gradient from it
    real = torch.randn(3, 1, 48, 48)
    rec = torch.randn(3, 1, 48, 48, requires_grad=True)
    D = PatchDiscriminator(1, F=0.125)
    nn.init.constant_(D.head.bias, 0.5)  # scores near 0.5, so every image has a weight
    weighted_cycle_loss(real, rec, D, 0.0).backward()
    assert rec.grad is not None and rec.grad.abs().sum() > 0
    assert all(p.grad is None for p in D.parameters())  # γ = 0: D is only a weight, a constant


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
    # two constant images 0.5 and -0.5, that is 0.75 and 0.25 on [0, 1]: SSIM = (2ab + C1) / (a² + b² + C1), C1 = 0.01²
    a, b, c1 = 0.75, 0.25, 0.01**2
    assert ssim(flat + 0.5, flat - 0.5).item() == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-6)
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


def test_one_pass_over_two_batches_is_two_passes():
    """The trainer runs a network once over two batches (``_paired``); with instance norm everywhere
    that is the same function as two passes, in training mode and for the gradient."""
    from labkit.train.cyclegan import _paired

    torch.manual_seed(0)
    x, y = torch.randn(3, 1, 48, 48), torch.randn(5, 1, 48, 48)
    for net in (ResnetGenerator(1, 0.125, 2), PatchDiscriminator(1, 0.125)):
        net.train()
        one_x, one_y = _paired(net, x, y)
        assert one_x.shape[0] == 3 and one_y.shape[0] == 5
        assert torch.allclose(one_x, net(x), atol=1e-5) and torch.allclose(one_y, net(y), atol=1e-5)
        (one_x.square().mean() + one_y.abs().mean()).backward()
        paired = [p.grad.clone() for p in net.parameters()]
        net.zero_grad()
        (net(x).square().mean() + net(y).abs().mean()).backward()
        for a, b in zip(paired, (p.grad for p in net.parameters())):
            assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)
    bn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))  # batch statistics: it gets two passes
    assert torch.equal(_paired(bn, x, y)[0], bn(x)) and not torch.allclose(bn(torch.cat([x, y]))[:3], bn(x), atol=1e-3)


def test_part_b_filter_keeps_confident_faces():
    """Fakes whose fate is known: copies of real faces pass the face check (and are kept when the
    classifier calls them neutral); blank, washed-out, sharpened and noise images fail its
    contrast test, shifted faces its nearness test, even where the classifier calls them neutral."""
    from labkit.experiments import cyclegan as ch

    class Judge(nn.Module):
        """Features: the pixels. p(neutral) = sigmoid(100 · (top-left pixel − 0.3)): at least 0.9
        when that pixel is at least 0.322, below 0.1 when it is below 0.278."""

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def features(self, x):
            return x.flatten(1)

        def forward(self, x):
            n = 100 * (x[:, 0, 0, 0] - 0.3)
            return torch.stack([torch.zeros_like(n), n], 1)

    g = torch.Generator().manual_seed(0)
    real = torch.rand(60, 1, 8, 8, generator=g) * 0.4 + 0.1  # textured faces, pixels in [0.1, 0.5]
    # real faces lie 0.99 or more from their nearest neighbour (pixel features; 1.16 at the 95th percentile)
    middle = real.flatten(1).std(1).argsort()[15:45]  # contrast well inside the real range
    corner = real[middle, 0, 0, 0]
    neutral_faces = real[middle[corner > 0.35][:4]]
    other_faces = real[middle[corner < 0.25][:3]]
    blank = torch.full((3, 1, 8, 8), 0.33)  # 0.95 from real faces: near, but no contrast
    mean = neutral_faces.mean((2, 3), keepdim=True)
    washed = ((neutral_faces - mean) * 0.5 + mean)[:2]  # half the contrast, still near its face
    sharp = ((neutral_faces - mean) * 1.6 + mean)[2:]  # 1.6 times the contrast, still near
    noise = torch.randn(2, 1, 8, 8, generator=g) * 0.5 + 0.3
    for x in (washed, sharp, noise):
        x[:, 0, 0, 0] = 0.4  # called neutral
    shifted = neutral_faces[:3] + 0.6  # real contrast, but far from every real face
    fake = torch.cat([neutral_faces, other_faces, blank, washed, sharp, noise, shifted])
    judge = Judge()
    p_want = torch.sigmoid(100 * (fake[:, 0, 0, 0] - 0.3))
    assert (p_want[:4] >= 0.9).all() and (p_want[4:7] < 0.1).all() and (p_want[7:] >= 0.9).all()

    face = ch.face_check(fake, real, judge)
    assert face.tolist() == [True] * 7 + [False] * 12
    kept, counts, p = ch.filter_neutral(fake, real, judge, neutral=1, confidence=0.9)
    assert torch.allclose(p, p_want)
    assert kept.tolist() == [True] * 4 + [False] * 15
    assert counts == {"generated": 19, "pass the face check": 7, "and neutral with p ≥ 0.9": 4}
    assert ch.face_check(real, real, judge)[middle].all()  # real faces of ordinary contrast are faces


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
            if x.requires_grad is False:  # a critic step: real A, then the generated faces, in one pass
                seen.append(x[: len(x) // 2, 0, 0, 0].clone())
            return super().forward(x)

    G = nn.Sequential(nn.Conv2d(1, 1, 1))
    F = nn.Sequential(nn.Conv2d(1, 1, 1))
    t = CycleGANTrainer(G, F, SpyA(), Spy(), B, epochs=1, loss=WGANGPLoss(10.0), d_steps=4, pool=0, lambda_id=0,
                        device="cpu")
    t.fit(BatchSource(A, batch_size=4), 1)
    real_a = seen
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


def test_part_b_retrain_scores_each_seed_and_condition(tmp_path):
    """Part B's comparison: one Simple classifier per seed and condition; each row's numbers are
    that run's test score, whether trained here or gathered by the runner."""
    from labkit.data.fer_standin import make_fer_standin
    from labkit.experiments import cyclegan as ch, fer
    from labkit.metrics import classifier_score
    from labkit.runs import fit

    train, test = make_fer_standin(140, seed=0, quiet=True), make_fer_standin(70, seed=1, quiet=True)
    extra = train.of_class(6)[:10]
    table = ch.retrain(train, test, extra, 6, 2, F=0.05, epochs=1, device="cpu", run_root=tmp_path)
    assert list(zip(table.seed, table.condition)) == [(0, "baseline"), (0, "+ synthetic neutral"),
                                                      (1, "baseline"), (1, "+ synthetic neutral")]
    run = fit(fer.classifier_spec("simple", F=0.05, batch=64, lr=1e-3, seed=1, name="clf-baseline"), train, 1,
              device="cpu", run_root=tmp_path)
    assert run.resumed_from == 1  # the row's run, found again
    score = classifier_score(run.model, test.x, test.y)
    row = table.iloc[2]
    assert row["overall"] == pytest.approx(score.accuracy)
    assert [row[c] for c in test.classes] == pytest.approx(list(score.per_class))
