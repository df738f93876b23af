"""The Inception-v3 that FID and the Inception Score are defined with.

FID (Heusel et al., TTUR) and published FIDs use TensorFlow's Inception graph of 2015-12-05,
not torchvision's ImageNet Inception-v3: the two give different features and different scores,
so only the first compares with a paper's number. pytorch-fid, torch-fidelity and torchmetrics'
``FrechetInceptionDistance`` all load that graph's weights converted to PyTorch; this module uses
torchmetrics' copy of torch-fidelity's network (``NoTrainInceptionV3``), with

- the weights from a local file (``weights=PATH``) or downloaded once when online
  (``weights="download"``, hash-checked, cached by ``torch.hub``);
- images resized to 299×299 as the reference does: TensorFlow 1's bilinear resize, without
  antialiasing (torchmetrics ≥ 1.8 antialiases by default, which changes the scores);
- images quantised to 8 bits first, as the reference reads PNG files: [-1, 1] floats are rounded
  to 0…255, and grey images repeated to three channels.

``features`` gives the 2,048 pool3 features (FID), ``forward`` the 1,008 logits without bias
(torch-fidelity's ``logits_unbiased``, the IS of Salimans et al.). ``weights_name`` says which
weights a score used, and whether they are the standard ones (their SHA-256 starts 6726825d).
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch
from torch import nn

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + WEIGHTS_FILE
WEIGHTS_SHA256_PREFIX = "6726825d"


def download_weights() -> Path:
    """The standard weights in torch.hub's cache, downloaded (and hash-checked) if not there yet."""
    cache = Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE
    if cache.is_file():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(WEIGHTS_URL, str(cache), hash_prefix=WEIGHTS_SHA256_PREFIX, progress=True)
    except Exception as err:  # noqa: BLE001 - offline, or a bad download: say what to do instead
        raise RuntimeError(f"could not download the FID Inception weights ({WEIGHTS_URL}: {type(err).__name__}: {err}); "
                           f"offline, put {WEIGHTS_FILE} in a folder and pass its path as the weights") from None
    return cache


class FIDInceptionV3(nn.Module):
    def __init__(self, weights: str | Path = "download", batch_size: int = 64):
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        path = download_weights() if str(weights) == "download" else Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no FID Inception weights file (expected {WEIGHTS_FILE}, as pytorch-fid, "
                                    f"torch-fidelity and torchmetrics use it); or pass weights='download' when online")
        data = path.read_bytes()
        try:  # read as data only (weights_only): a file that would run code is refused unread
            torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - name the file and what was expected
            raise ValueError(f"{path}: not a state dict of the FID Inception-v3 ({type(err).__name__}: {err})") from err
        digest = hashlib.sha256(data).hexdigest()
        self.standard = digest.startswith(WEIGHTS_SHA256_PREFIX)
        self.weights_name = (f"{path.name} (the standard 2015-12-05 weights)" if self.standard
                             else f"{path.name} (NOT the standard FID weights: sha256 {digest[:8]}…)")
        try:
            self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048", "logits_unbiased"],
                                          feature_extractor_weights_path=str(path), antialias=False)
        except Exception as err:  # noqa: BLE001 - name the file and what was expected
            raise ValueError(f"{path}: not a state dict of the FID Inception-v3 ({type(err).__name__}: {err})") from err
        self.batch_size = batch_size

    @staticmethod
    def to_uint8(x: torch.Tensor) -> torch.Tensor:
        """[-1, 1] images, 1 or 3 channels → uint8 RGB, as a saved PNG would hold them."""
        x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    @torch.no_grad()
    def _both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        device = next(self.net.parameters()).device
        feats, logits = [], []
        for i in range(0, len(x), self.batch_size):
            # torchmetrics' forward returns the first feature only; its tuple of both comes from here
            f, lg = self.net._torch_fidelity_forward(self.to_uint8(x[i : i + self.batch_size]).to(device))
            feats.append(f.float().cpu())
            logits.append(lg.float().cpu())
        return torch.cat(feats), torch.cat(logits)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 2,048 pool3 features FID is taken on."""
        return self._both(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The 1,008 unbiased logits the Inception Score is taken on."""
        return self._both(x)[1]
