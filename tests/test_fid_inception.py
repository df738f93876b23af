"""The FID Inception pipeline on a saved state dict (FID's arithmetic itself: tests/test_metrics.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from labkit import metrics
from labkit.models import fid_inception
from labkit.models.fid_inception import FIDInceptionV3


def fid_numpy(f1: np.ndarray, f2: np.ndarray) -> float:
    """labkit's NumPy/SciPy reference, in float64."""
    return metrics.fid_numpy(np.asarray(f1, dtype=np.float64), np.asarray(f2, dtype=np.float64))


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """The FID Inception's architecture with random weights, saved as a state dict (fp16, 48 MB):
    the real file is downloaded by users; the pipeline is the same."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    load, load_state = torch.load, nn.Module.load_state_dict
    torch.load, nn.Module.load_state_dict = (lambda *a, **k: {}), (lambda self, *a, **k: None)  # build it unloaded
    try:
        torch.manual_seed(0)
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path="unused")
    finally:
        torch.load, nn.Module.load_state_dict = load, load_state
    with torch.no_grad():  # weights that carry an image through all the layers (the default lets it fade out)
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("fid") / "random-inception.pth"
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, path)
    return path


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Matrix is singular")  # 8 images in 2,048 dimensions: a singular covariance
def test_fid_pipeline_on_a_saved_state_dict(weights_file):
    from torchmetrics.image.fid import NoTrainInceptionV3

    model = FIDInceptionV3(weights_file)
    assert not model.standard and "NOT the standard FID weights" in model.weights_name
    g = torch.Generator().manual_seed(0)
    real = torch.rand(8, 1, 32, 32, generator=g) * 2 - 1  # grey, small: repeated to RGB and resized to 299
    fake = (torch.rand(8, 1, 32, 32, generator=g) * 2 - 1) * 0.5
    feats, logits = model.features(real), model(real)
    assert feats.shape == (8, 2048) and logits.shape == (8, 1008)
    # resized as the reference: TensorFlow 1's bilinear, no antialiasing, on 8-bit RGB
    reference = NoTrainInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(weights_file),
                                   antialias=False)
    u8 = ((real + 1) * 127.5).round().to(torch.uint8).expand(-1, 3, -1, -1)
    assert feats.std() > 0.01  # features that differ between images
    assert torch.allclose(feats, reference(u8).float(), rtol=1e-4, atol=1e-5)
    antialiased = NoTrainInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(weights_file),
                                     antialias=True)
    assert not torch.allclose(feats, antialiased(u8).float(), rtol=1e-2, atol=1e-3)  # the setting matters
    # labkit's FID on these features is the float64 formula on them
    ours = metrics.fid(model, real, fake, name="FID Inception").value
    assert ours == pytest.approx(fid_numpy(feats.numpy(), model.features(fake).numpy()), rel=1e-4)


def test_fid_inception_quantises_like_a_png():
    x = torch.tensor([-1.0, -0.999, 0.0, 1.0, 2.0]).view(1, 1, 1, 5)
    out = FIDInceptionV3.to_uint8(x)
    assert out.dtype == torch.uint8 and out.shape == (1, 3, 1, 5)
    assert out[0, 0, 0].tolist() == [0, 0, 128, 255, 255]


def test_missing_or_wrong_weights_say_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights-inception-2015-12-05-6726825d.pth"):
        FIDInceptionV3(tmp_path / "nothing.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(3)}, bad)
    with pytest.raises(ValueError, match="not a state dict of the FID Inception-v3"):
        FIDInceptionV3(bad)


def test_offline_download_fails_in_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(fid_inception, "WEIGHTS_URL", "http://127.0.0.1:9/weights-inception-2015-12-05-6726825d.pth")
    with pytest.raises(RuntimeError, match="could not download the FID Inception weights .* pass its path") as err:
        FIDInceptionV3("download")
    assert "\n" not in str(err.value)
