import pytest
import torch

from labkit.data import ImageSet
from labkit.pca import ClassPCA, project_2d


def toy():
    g = torch.Generator().manual_seed(0)
    x = torch.tanh(torch.randn(60, 1, 4, 4, generator=g) * 0.3)
    return ImageSet(x, torch.arange(60) % 3, ["a", "b", "c"])


def test_all_components_reconstruct_exactly_and_one_is_a_line():
    data = toy()
    pca = ClassPCA().fit(data)
    assert pca.max_components == 16
    full = pca.reconstruct(data.x, data.y, 16)
    assert torch.allclose(full, data.x, atol=1e-5)
    one = pca.reconstruct(data.x, data.y, 1).flatten(1).double()
    for c in range(3):
        centred = one[data.y == c] - pca.means[c]
        # rank one: every reconstruction is a multiple of the first component
        assert torch.linalg.matrix_rank(centred, atol=1e-6) == 1
    ev = pca.explained_variance(0)
    assert torch.all(ev[1:] >= ev[:-1]) and ev[-1] == pytest.approx(1.0)


def test_samples_have_the_class_statistics():
    data = toy()
    pca = ClassPCA().fit(data)
    s = pca.sample(torch.zeros(4000, dtype=torch.long), 16, seed=1)
    assert s.shape == (4000, 1, 4, 4)
    assert torch.allclose(s.flatten(1).mean(0).double(), pca.means[0], atol=0.02)
    with pytest.raises(ValueError, match="components must be in 1..16"):
        pca.sample(torch.zeros(2, dtype=torch.long), 17)


def test_project_2d_and_errors():
    data = toy()
    p = project_2d(data.x)
    assert p.shape == (60, 2) and p[:, 0].var() >= p[:, 1].var()
    with pytest.raises(ValueError, match="class 'b' has 1 image"):
        ClassPCA().fit(ImageSet(torch.zeros(3, 1, 2, 2), torch.tensor([0, 0, 1]), ["a", "b"]))
