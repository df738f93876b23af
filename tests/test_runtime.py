"""Device, precision and memory-order choices (labkit.runtime)."""
import pytest
import torch

from labkit import runtime
from labkit.models import MnistDiscriminator
from labkit.models.radford import RadfordGenerator


@pytest.mark.parametrize("value, expected", [("0", False), ("off", False), ("1", True), ("on", True)])
def test_cpu_bf16_can_be_forced(monkeypatch, value, expected):
    monkeypatch.setenv("LABKIT_CPU_BF16", value)
    assert runtime.cpu_bf16() is expected
    ctx = runtime.autocast(torch.device("cpu"))
    with ctx:
        out = torch.nn.functional.linear(torch.randn(2, 4), torch.randn(3, 4))
    assert out.dtype == (torch.bfloat16 if expected else torch.float32)
    with runtime.autocast(torch.device("cpu"), enabled=False):  # amp=False is always float32
        assert torch.nn.functional.linear(torch.randn(2, 4), torch.randn(3, 4)).dtype == torch.float32


def test_cpu_bf16_rejects_a_bad_setting(monkeypatch):
    monkeypatch.setenv("LABKIT_CPU_BF16", "maybe")
    with pytest.raises(ValueError, match="LABKIT_CPU_BF16 must be 0 or 1"):
        runtime.cpu_bf16()


def test_describe_names_the_precision(monkeypatch):
    monkeypatch.setenv("LABKIT_CPU_BF16", "1")
    assert "bf16" in runtime.describe(torch.device("cpu"))
    monkeypatch.setenv("LABKIT_CPU_BF16", "0")
    assert "bf16" not in runtime.describe(torch.device("cpu"))


def test_channels_last_converts_convolutional_models_only():
    G = runtime.channels_last(RadfordGenerator(size=32, F=0.1), torch.device("cpu"))
    conv = G.net[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    mlp = runtime.channels_last(torch.nn.Sequential(torch.nn.Linear(3, 2)), torch.device("cpu"))
    assert mlp[0].weight.is_contiguous()
    # a channels-last model takes ordinary (contiguous) input and computes the same function
    D = MnistDiscriminator(F=0.1).eval()
    x = torch.rand(4, 1, 28, 28)
    before = D(x)
    assert torch.allclose(runtime.channels_last(D, torch.device("cpu"))(x), before, atol=1e-5)


def test_describe_counts_threads(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert runtime.describe(torch.device("cpu")).startswith("device: cpu (1 thread)")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert runtime.describe(torch.device("cpu")).startswith("device: cpu (2 threads)")


@pytest.mark.parametrize("value, expected", [(None, False), ("0", False), ("1", True), ("on", True)])
def test_cuda_bf16_is_off_unless_asked(monkeypatch, value, expected):
    # bf16 cost chapter 004's paper-scale CCGAN 3 points of LeNet score on an H200
    if value is None:
        monkeypatch.delenv("LABKIT_CUDA_BF16", raising=False)
    else:
        monkeypatch.setenv("LABKIT_CUDA_BF16", value)
    assert runtime.cuda_bf16() is expected
    ctx = runtime.autocast(torch.device("cuda"))
    assert isinstance(ctx, torch.autocast) is expected  # the context is built without touching a GPU


@pytest.mark.parametrize("value, expected", [(None, "on"), ("1", "on"), ("0", "off"), ("off", "off"), ("ALL", "all")])
def test_cuda_graphs_are_on_unless_turned_off(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("LABKIT_CUDA_GRAPHS", raising=False)
    else:
        monkeypatch.setenv("LABKIT_CUDA_GRAPHS", value)
    assert runtime.cuda_graphs() == expected


def test_cuda_graphs_rejects_a_bad_setting(monkeypatch):
    monkeypatch.setenv("LABKIT_CUDA_GRAPHS", "yes please")
    with pytest.raises(ValueError, match="LABKIT_CUDA_GRAPHS must be 0, 1 or all"):
        runtime.cuda_graphs()


def test_cuda_bf16_rejects_a_bad_setting(monkeypatch):
    monkeypatch.setenv("LABKIT_CUDA_BF16", "fast")
    with pytest.raises(ValueError, match="LABKIT_CUDA_BF16 must be 0 or 1"):
        runtime.cuda_bf16()


def test_inference_batch_is_small_on_a_cpu_and_large_on_a_gpu():
    from labkit.runtime import inference_batch

    assert inference_batch(torch.device("cpu")) == 128
    assert inference_batch(torch.device("cuda")) == 1000
    assert inference_batch(torch.device("cpu"), cpu=64, other=256) == 64


def test_predict_in_batches_gives_one_batchs_logits():
    from labkit.models.registry import define_classifier
    from labkit.train.classifier import predict

    torch.manual_seed(0)
    model = define_classifier("simple", (1, 48, 48), 7, F=0.125).to(memory_format=torch.channels_last)
    x = torch.rand(300, 1, 48, 48) * 2 - 1
    whole = predict(model, x, batch_size=1000)
    assert whole.shape == (300, 7) and model.training  # back in training mode
    torch.testing.assert_close(predict(model, x), whole, rtol=1e-4, atol=1e-5)  # 128, 128, 44
    torch.testing.assert_close(predict(model, x, features=True), predict(model, x, batch_size=7, features=True),
                               rtol=1e-4, atol=1e-5)
