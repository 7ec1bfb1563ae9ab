"""Clustering codes: k-means, GMM, N2D, matched scores, DEC / IDEC, pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from sklearn.datasets import make_blobs

from aekit.analysis.clustering import (
    ClusterResult,
    cluster_accuracy,
    cluster_codes,
    cluster_matching,
    cluster_scores,
)
from aekit.analysis.clustering_dec import (
    dec_fine_tune,
    soft_assignment,
    target_distribution,
)
from aekit.analysis.plots.clusters import plot_cluster_map, plot_confusion
from aekit.errors import AekitError
from aekit.models import build_model


def blobs(n=240, k=4, d=5, seed=0, std=0.5):
    x, y = make_blobs(n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return x.astype(np.float32), y


@pytest.mark.parametrize("method", ["kmeans", "gmm", "n2d"])
def test_separated_blobs_are_found(method):
    x, y = blobs()
    result = cluster_codes(x, k=4, method=method, seed=0)
    assert isinstance(result, ClusterResult)
    assert cluster_accuracy(y, result.labels) > 0.99
    assert result.labels.shape == (240,) and result.k == 4
    assert result.centers.shape == (4, 5)
    assert result.k_chosen_by is None and result.scores is None
    if method == "kmeans":
        assert result.probability is None
    else:
        assert result.probability.shape == (240,)
        assert ((result.probability > 0) & (result.probability <= 1)).all()
    # the centres sit in code space: each near the mean of its cluster
    for j in range(4):
        assert np.allclose(result.centers[j], x[result.labels == j].mean(0), atol=0.3)


def test_k_is_chosen_by_bic_for_gmm():
    x, _ = blobs(n=200)
    result = cluster_codes(x, k=None, method="gmm", seed=0)
    assert result.k == 4 and result.k_chosen_by == "bic"
    assert sorted(result.scores) == list(range(2, 21))
    assert min(result.scores, key=result.scores.get) == 4


@pytest.mark.parametrize("method", ["kmeans", "n2d"])
def test_k_is_chosen_by_silhouette(method):
    x, _ = blobs(n=200)
    result = cluster_codes(x, k=None, method=method, seed=0)
    assert result.k == 4 and result.k_chosen_by == "silhouette"
    assert max(result.scores, key=result.scores.get) == 4


def test_seeded_results_repeat():
    x, _ = blobs()
    a = cluster_codes(x, k=3, method="gmm", seed=1)
    b = cluster_codes(x, k=3, method="gmm", seed=1)
    assert np.array_equal(a.labels, b.labels)


@pytest.mark.parametrize("k", [0, 1, 241, 2.5])
def test_bad_k_raises(k):
    x, _ = blobs()
    with pytest.raises(AekitError, match="k"):
        cluster_codes(x, k=k, method="kmeans")


def test_bad_codes_and_method_raise():
    x, _ = blobs()
    x[3, 1] = np.nan
    with pytest.raises(AekitError, match="NaN"):
        cluster_codes(x, k=2)
    with pytest.raises(AekitError, match="method"):
        cluster_codes(blobs()[0], k=2, method="spectral")
    with pytest.raises(AekitError, match=r"\(N, d\)"):
        cluster_codes(np.zeros(5), k=2)


def test_n2d_without_umap_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "umap", None)  # import umap -> ImportError
    with pytest.raises(AekitError, match=r"pip install 'aekit\[umap\]'"):
        cluster_codes(blobs()[0], k=3, method="n2d")


def test_cluster_accuracy_hand_computed():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert cluster_accuracy(y, [2, 2, 0, 0, 1, 1]) == 1.0  # a permutation
    assert cluster_accuracy(y, [0, 0, 0, 1, 1, 1]) == pytest.approx(4 / 6)
    # more clusters than classes: cluster 3 matches no class
    assert cluster_accuracy(y, [0, 0, 1, 1, 2, 3]) == pytest.approx(5 / 6)
    # fewer clusters than classes: one class is left unmatched
    assert cluster_accuracy(y, [0, 0, 1, 1, 1, 1]) == pytest.approx(4 / 6)
    assert cluster_matching(y, [2, 2, 0, 0, 1, 1]) == {2: 0, 0: 1, 1: 2}


def test_cluster_scores():
    y = np.array([0, 0, 1, 1, 2, 2])
    s = cluster_scores(y, [1, 1, 2, 2, 0, 0])
    assert s["accuracy"] == s["nmi"] == pytest.approx(1.0)
    assert s["ari"] == pytest.approx(1.0)
    assert s["matching"] == {1: 0, 2: 1, 0: 2}
    with pytest.raises(AekitError):
        cluster_scores(y, [0, 1])


def test_soft_assignment_and_target_by_hand():
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    mu = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    q = soft_assignment(z, mu)
    # row 0: 1/(1+0), 1/(1+4) -> (1, 0.2) / 1.2; row 1: both at distance 1
    assert torch.allclose(q, torch.tensor([[1 / 1.2, 0.2 / 1.2], [0.5, 0.5]]))
    p = target_distribution(q)
    f = q.sum(0)
    expect = q**2 / f
    assert torch.allclose(p, expect / expect.sum(1, keepdim=True))
    assert p[0, 0] > q[0, 0]  # sharper than q where q is confident


def pretrained_ae(x: torch.Tensor, *, epochs=150, seed=0):
    torch.manual_seed(seed)
    model = build_model("mlp", (20,), latent_dim=3, hidden=(16,), output="identity")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(epochs):
        loss = model.loss(x, x)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_dec_keeps_accuracy_and_trains_the_encoder(gamma):
    a, y = blobs(n=150, k=3, d=20, seed=2, std=1.0)
    x = torch.from_numpy(a / np.abs(a).max())
    model = pretrained_ae(x)
    with torch.no_grad():
        codes = model.encode(x).numpy()
    before = cluster_accuracy(y, cluster_codes(codes, k=3, seed=0).labels)
    weights = [p.detach().clone() for p in model.body.parameters()]
    decoder = [p.detach().clone() for p in model.from_code.parameters()]
    labels, q = dec_fine_tune(
        model.encode,
        model.decode,
        x,
        k=3,
        epochs=10,
        batch_size=32,
        lr=1e-3,
        gamma=gamma,
        seed=0,
        tol=0.0,
    )
    assert labels.shape == (150,) and q.shape == (150, 3)
    assert np.allclose(q.sum(1), 1.0, atol=1e-5)
    assert cluster_accuracy(y, labels) >= before
    changed = [
        not torch.equal(w, p)
        for w, p in zip(weights, model.body.parameters(), strict=True)
    ]
    assert any(changed)
    # plain DEC leaves the decoder head alone; IDEC trains it too
    same = all(
        torch.equal(w, p)
        for w, p in zip(decoder, model.from_code.parameters(), strict=True)
    )
    assert same == (gamma == 0)


def test_dec_is_deterministic_under_a_seed():
    a, _ = blobs(n=90, k=3, d=20, seed=3)
    x = torch.from_numpy(a / np.abs(a).max())
    runs = []
    for _ in range(2):
        model = pretrained_ae(x, epochs=20)
        _, q = dec_fine_tune(
            model.encode, None, x, k=3, epochs=3, batch_size=16, seed=4
        )
        runs.append(q)
    assert np.array_equal(*runs)


def test_dec_validates():
    x = torch.zeros(10, 20)
    model = build_model("mlp", (20,), latent_dim=3, hidden=(16,))
    with pytest.raises(AekitError, match="decoder"):
        dec_fine_tune(model.encode, None, x, k=2, gamma=1.0)
    with pytest.raises(AekitError, match="k"):
        dec_fine_tune(model.encode, None, x, k=11)
    with pytest.raises(AekitError, match="centers_init"):
        dec_fine_tune(model.encode, None, x, k=2, centers_init=np.zeros((3, 3)))


def test_plot_cluster_map_with_image_prototypes():
    x, y = blobs(n=120, k=3, d=2)
    labels = cluster_codes(x, k=3, seed=0).labels
    protos = torch.rand(3, 1, 8, 8)
    fig = plot_cluster_map(x, labels, prototypes=protos, true_labels=y, title="t")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 + 3  # two maps, three thumbnails
    assert len(fig.axes[2].images) == 1
    fig = plot_cluster_map(x, labels, prototypes=np.random.rand(3, 20))
    assert len(fig.axes) == 1 + 3 and len(fig.axes[1].lines) == 1
    assert len(plot_cluster_map(x, labels).axes) == 1
    with pytest.raises(AekitError):
        plot_cluster_map(x, labels, prototypes=protos[:2])


def test_plot_confusion_puts_matched_clusters_on_the_diagonal():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([2, 2, 0, 0, 1, 1, 3])  # 4 clusters for 3 classes
    fig = plot_confusion(y, pred, class_names=["a", "b", "c"])
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    table = fig.axes[0].images[0].get_array()
    assert table.shape == (3, 4)
    assert list(np.diag(table[:, :3])) == [2, 2, 2] and table[2, 3] == 1
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2", "0", "1", "3"]
    assert len(fig.axes[0].texts) == 12
