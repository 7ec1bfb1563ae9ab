"""pythae 0.1.2's VAE, IWAE, VAMP and BetaTCVAE on the data that
benchmarks/vae_peers.py gives it; run in pythae's own virtual environment.

Reads one JSON request on stdin: {"model": "vae"|"iwae"|"vamp"|"betatcvae",
"train": npy, "test": npy, "epochs", "latent_dim", "n_samples", "iwae_samples",
"vamp_components", "alpha", "beta", "gamma", "nll_k", "nll_n", "out": dir,
"threads", "seed"}. The network is aekit's MLP VAE, wrapped as pythae's encoder and
decoder (as in pythae_generative.py), trained with pythae's objective ("bce":
Bernoulli on [0, 1] pixels) and its trainer. Writes recon.npy (the decoded
posterior means of the test images), samples.npy (pythae's own sampler: normal,
or VAMPSampler), nll.npy (per example) and result.json (seconds; the NLL
of aekit.analysis.likelihood with this model's encoder, decoder and prior; the MSE of
pythae's own reconstruct(), which decodes a sampled code).
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pythae.data.datasets import BaseDataset  # noqa: E402
from pythae.models import (  # noqa: E402
    IWAE,
    VAE,
    VAMP,
    BetaTCVAE,
    BetaTCVAEConfig,
    IWAEConfig,
    VAEConfig,
    VAMPConfig,
)
from pythae.samplers import NormalSampler, VAMPSampler  # noqa: E402
from pythae.trainers import BaseTrainer, BaseTrainerConfig  # noqa: E402

from aekit.analysis.likelihood import LOG_2PI, importance_weighted_nll  # noqa: E402
from aekit.models import build_model  # noqa: E402
from pythae_generative import Decoder, Encoder  # noqa: E402


class Scored:
    """A trained pythae model seen through aekit.analysis.likelihood's interface.

    The wrapped decoder returns sigmoid(net.decode_logits(z)), so the logits are
    read from the aekit network itself: no inverse sigmoid (and no clamp) needed.
    log_prior is N(0, I), or VAMP's mixture of the encoder at its pseudo-inputs;
    pythae's _log_p_z leaves out the -d/2 log(2 pi) of each Gaussian (it cancels
    against its own log q in training), so it is added back here.
    """

    def __init__(self, model, net):
        self.model, self.net = model, net

    def encode_distribution(self, x, c=None):
        out = self.model.encoder(x)
        return out.embedding, out.log_covariance

    def decode_logits(self, z):
        return self.net.decode_logits(z)

    def log_likelihood(self, x, logits):
        return -F.binary_cross_entropy_with_logits(
            logits.flatten(1), x.flatten(1), reduction="none"
        ).sum(1)

    def kl(self, mu, logvar):
        """KL(q || N(0, I)); only for the Protocol check (the NLL does not use it)."""
        return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)

    def log_prior(self, z, c=None):
        if isinstance(self.model, VAMP):
            return self.model._log_p_z(z) - 0.5 * z.shape[1] * LOG_2PI
        return -0.5 * (z.pow(2) + LOG_2PI).sum(-1)


def make(request: dict, shape: tuple[int, ...]):
    net = build_model("vae", shape, latent_dim=request["latent_dim"])
    common = {
        "input_dim": shape,
        "latent_dim": request["latent_dim"],
        "reconstruction_loss": "bce",
    }
    kind = request["model"]
    if kind == "vae":
        model = VAE(VAEConfig(**common), Encoder(net, kind), Decoder(net, kind))
    elif kind == "iwae":
        config = IWAEConfig(number_samples=request["iwae_samples"], **common)
        model = IWAE(config, Encoder(net, kind), Decoder(net, kind))
    elif kind == "vamp":
        config = VAMPConfig(number_components=request["vamp_components"], **common)
        model = VAMP(config, Encoder(net, kind), Decoder(net, kind))
    elif kind == "betatcvae":
        config = BetaTCVAEConfig(
            alpha=request["alpha"],
            beta=request["beta"],
            gamma=request["gamma"],
            use_mss=False,  # minibatch-weighted sampling, aekit's estimator
            **common,
        )
        model = BetaTCVAE(config, Encoder(net, kind), Decoder(net, kind))
    else:
        raise ValueError(f"unknown model {kind!r}")
    return model, net


def run(request: dict) -> dict:
    torch.manual_seed(request.get("seed", 0))
    train = torch.from_numpy(np.load(request["train"]))
    test = torch.from_numpy(np.load(request["test"]))
    out = Path(request["out"])
    model, net = make(request, tuple(train.shape[1:]))
    with tempfile.TemporaryDirectory() as tmp:
        trainer = BaseTrainer(
            model,
            BaseDataset(train, torch.zeros(len(train))),
            None,
            BaseTrainerConfig(
                output_dir=tmp,
                per_device_train_batch_size=64,
                per_device_eval_batch_size=64,
                num_epochs=request["epochs"],
                learning_rate=2e-3,
                no_cuda=True,
            ),
        )
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    if trainer._best_model is not None:
        model = trainer._best_model
        net = model.encoder.net
    model.eval()
    result = {"train_seconds": seconds}
    with torch.no_grad():
        mu = model.encoder(test).embedding
        recon = model.decoder(mu).reconstruction
        # the logits of the adapter are the decoder's, before its sigmoid
        gap = (torch.sigmoid(net.decode_logits(mu)) - recon).abs().max()
        assert float(gap) < 1e-5, f"decoder is not sigmoid(logits): {float(gap)}"
        sampled = model.reconstruct(test)
        result["test_mse_sampled"] = float(((sampled - test) ** 2).mean())
        torch.manual_seed(0)
        if isinstance(model, VAMP):
            samples = VAMPSampler(model).sample(num_samples=request["n_samples"])
        else:
            samples = NormalSampler(model).sample(num_samples=request["n_samples"])
    np.save(out / "recon.npy", recon.numpy())
    np.save(out / "samples.npy", samples.numpy())
    started = time.perf_counter()
    nll = importance_weighted_nll(
        Scored(model, net), test[: request["nll_n"]], k=request["nll_k"], seed=0
    )
    result["nll_seconds"] = time.perf_counter() - started
    result["nll"] = nll.to_dict()
    np.save(out / "nll.npy", nll.per_example)
    assert math.isfinite(nll.nats)
    (out / "result.json").write_text(json.dumps(result))
    return result


if __name__ == "__main__":
    request = json.loads(sys.stdin.read())
    torch.set_num_threads(request.get("threads", 1))
    print(json.dumps(run(request)), flush=True)
