import math

import pytest
import torch

from labkit.losses import BCELoss, LSGANLoss, WGANGPLoss, gradient_penalty, make_loss


def bce(p, t):
    return -(t * math.log(p) + (1 - t) * math.log(1 - p))


def sig(v):
    return 1 / (1 + math.exp(-v))


def test_bce_values_by_hand():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    loss = BCELoss()
    want_d = (bce(sig(2), 1) + bce(sig(0), 1)) / 2 + (bce(sig(-1), 0) + bce(sig(1), 0)) / 2
    assert loss.d_loss(real, fake).item() == pytest.approx(want_d, rel=1e-6)
    assert loss.g_loss(fake).item() == pytest.approx((bce(sig(-1), 1) + bce(sig(1), 1)) / 2, rel=1e-6)


def test_one_sided_label_smoothing_changes_only_the_real_term():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    smooth = BCELoss(real_target=0.9)
    want = (bce(sig(2), 0.9) + bce(sig(0), 0.9)) / 2 + (bce(sig(-1), 0) + bce(sig(1), 0)) / 2
    assert smooth.d_loss(real, fake).item() == pytest.approx(want, rel=1e-6)
    assert smooth.g_loss(fake).item() == pytest.approx(BCELoss().g_loss(fake).item())
    with pytest.raises(ValueError, match="real_target"):
        BCELoss(real_target=0.4)


def test_least_squares_values():
    real, fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])
    loss = LSGANLoss()
    assert loss.d_loss(real, fake).item() == pytest.approx(0.5 * ((0 + 0.25) / 2 + (0 + 0.25) / 2))
    assert loss.g_loss(fake).item() == pytest.approx(0.5 * (1 + 0.25) / 2)


def test_gradient_penalty_of_a_linear_critic():
    w = torch.tensor([2.0, -2.0, 1.0])  # |w| = 3, the gradient everywhere
    critic = lambda x: (x.flatten(1) * w).sum(1)  # noqa: E731
    real, fake = torch.randn(5, 3), torch.randn(5, 3)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((3 - 1) ** 2)
    assert WGANGPLoss(lambda_gp=10).penalty(critic, real, fake).item() == pytest.approx(40.0)


def test_gradient_penalty_uses_one_factor_per_sample_and_the_norm_over_all_dims():
    # critic(x) = |x|^2 / 2 has gradient x; with real = 1 and fake = 0, x_hat = a * 1
    critic = lambda x: 0.5 * (x**2).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.ones(4, 2, 3, 3), torch.zeros(4, 2, 3, 3, requires_grad=True)
    got = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(7))
    a = torch.rand((4, 1, 1, 1), generator=torch.Generator().manual_seed(7)).flatten()
    want = ((a * math.sqrt(18) - 1) ** 2).mean()
    assert got.item() == pytest.approx(want.item(), rel=1e-5)
    got.backward()
    assert fake.grad is None  # the penalty trains the critic only: real and fake are detached


@pytest.mark.parametrize("w, norm", [([2.0, -2.0, 1.0, 0, 0, 0, 0, 0], 3.0), ([0.3, 0, 0, 0.4, 0, 0, 0, 0], 0.5)])
def test_gradient_penalty_trains_a_linear_critics_weight_by_the_closed_form(w, norm):
    """For D(x) = w·x, grad_x D = w everywhere, so the penalty is λ(‖w‖ − 1)² and its gradient
    on w is 2λ(‖w‖ − 1) w / ‖w‖; it exists only if the input gradient is itself differentiated
    (create_graph), and the norm is over all of a sample's (C, H, W) entries."""
    lam = 10.0
    weight = torch.nn.Parameter(torch.tensor(w).view(2, 2, 2))
    critic = lambda x: (x * weight).flatten(1).sum(1)  # noqa: E731
    real = torch.randn(5, 2, 2, 2, generator=torch.Generator().manual_seed(0))
    fake = torch.randn(5, 2, 2, 2, generator=torch.Generator().manual_seed(1))
    penalty = WGANGPLoss(lambda_gp=lam).penalty(critic, real, fake)
    assert penalty.item() == pytest.approx(lam * (norm - 1) ** 2, rel=1e-6)
    penalty.backward()
    want = 2 * lam * (norm - 1) * weight.detach() / norm
    assert torch.allclose(weight.grad, want, rtol=1e-5, atol=1e-6)


def test_gan_trainer_takes_d_steps_critic_steps_per_generator_step():
    """Counted at the optimisers: ``d_steps`` steps of D's, then one of G's, per batch."""
    from torch import nn

    from labkit.train import BatchSource, GANTrainer

    for d_steps in (1, 3):
        torch.manual_seed(0)
        G = nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Unflatten(1, (1, 2, 2)))
        D = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
        t = GANTrainer(G, D, loss=WGANGPLoss(10.0), nz=8, d_steps=d_steps, n_fixed=4, device="cpu")
        order = []
        for k in ("D", "G"):
            t.optimizers[k].register_step_post_hook(lambda opt, args, kwargs, k=k: order.append(k))
        data = BatchSource(torch.rand(24, 1, 2, 2) * 2 - 1, torch.zeros(24, dtype=torch.long), batch_size=8)
        t.fit(data, 2)  # 3 batches an epoch
        assert order == (["D"] * d_steps + ["G"]) * 6, d_steps


def test_wasserstein_values_and_factory():
    loss = make_loss("wgan-gp", lambda_gp=5)
    assert loss.d_loss(torch.tensor([3.0, 1.0]), torch.tensor([0.0, -2.0])).item() == pytest.approx(-1 - 2)
    assert loss.g_loss(torch.tensor([0.0, -2.0])).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="loss must be one of"):
        make_loss("hinge")
