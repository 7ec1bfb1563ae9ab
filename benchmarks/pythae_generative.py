"""pythae 0.1.2's VQVAE (+ its PixelCNNSampler) and VAEGAN on the data that
benchmarks/generative.py gives it; run in pythae's own virtual environment.

Reads one JSON request on stdin: {"model": "vqvae"|"vaegan", "train": npy, "test":
npy, "epochs", "prior_epochs", "latent_dim", "codebook_size", "n_samples", "out":
dir, "threads"}. The networks are aekit's (its VQ-VAE conv encoder/decoder, its
VAE's MLP), wrapped as pythae's encoder and decoder, so both libraries train the
same networks with their own objectives, quantisers and trainers; VAEGAN uses
pythae's default discriminator. Writes recon.npy (test reconstructions),
samples.npy, indices.npy (VQVAE test code indices) and result.json (seconds).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pythae.data.datasets import BaseDataset  # noqa: E402
from pythae.models import VAEGAN, VQVAE, VAEGANConfig, VQVAEConfig  # noqa: E402
from pythae.models.base.base_utils import ModelOutput  # noqa: E402
from pythae.models.nn import BaseDecoder, BaseEncoder  # noqa: E402
from pythae.samplers import (  # noqa: E402
    NormalSampler,
    PixelCNNSampler,
    PixelCNNSamplerConfig,
)
from pythae.trainers import (  # noqa: E402
    BaseTrainer,
    BaseTrainerConfig,
    CoupledOptimizerAdversarialTrainer,
    CoupledOptimizerAdversarialTrainerConfig,
)

from aekit.models import build_model  # noqa: E402


class Encoder(BaseEncoder):
    def __init__(self, net, kind):
        super().__init__()
        self.net, self.kind = net, kind

    def forward(self, x):
        if self.kind == "vqvae":
            return ModelOutput(embedding=self.net.encoder(x))  # (B, D, h, w)
        mu, logvar = self.net.encode_distribution(x)
        return ModelOutput(embedding=mu, log_covariance=logvar)


class Decoder(BaseDecoder):
    def __init__(self, net, kind):
        super().__init__()
        self.net, self.kind = net, kind

    def forward(self, z):
        if self.kind == "vqvae":
            if z.shape[1] != self.net.config.code_dim:  # (B, h, w, D)
                z = z.permute(0, 3, 1, 2)
            return ModelOutput(reconstruction=self.net.decode_vectors(z))
        return ModelOutput(reconstruction=self.net.decode(z))


def sample_ema(model, sampler, n: int, h: int, w: int) -> torch.Tensor:
    """PixelCNNSampler.sample in pythae 0.1.2 calls the EMA quantizer's embedding
    tensor as a module (a TypeError); the same raster-order draw, indexed."""
    pixelcnn = sampler.pixelcnn_model.eval()
    z = torch.zeros(n, 1, h, w)
    with torch.no_grad():
        for k in range(h):
            for j in range(w):
                out = pixelcnn({"data": z}).out.squeeze(2)
                probs = torch.softmax(out[:, :, k, j], dim=-1)
                z[:, :, k, j] = torch.multinomial(probs, 1).float()
        book = model.quantizer.embeddings  # (K, D) tensor under EMA
        z_quant = book[z.reshape(n, -1).long()].reshape(n, h, w, -1)
        return model.decoder(z_quant.permute(0, 3, 1, 2)).reconstruction


def run(request: dict) -> dict:
    torch.manual_seed(0)
    train = torch.from_numpy(np.load(request["train"]))
    test = torch.from_numpy(np.load(request["test"]))
    shape = tuple(train.shape[1:])
    kind, out = request["model"], Path(request["out"])
    if kind == "vqvae":
        net = build_model(
            "vq-vae",
            shape,
            codebook_size=request["codebook_size"],
            code_dim=request["latent_dim"],
        )
        config = VQVAEConfig(
            input_dim=shape,
            latent_dim=request["latent_dim"],
            num_embeddings=request["codebook_size"],
            use_ema=True,
            decay=0.99,
            commitment_loss_factor=0.25,
        )
        model = VQVAE(config, encoder=Encoder(net, kind), decoder=Decoder(net, kind))
    else:
        net = build_model("vae", shape, latent_dim=request["latent_dim"])
        config = VAEGANConfig(input_dim=shape, latent_dim=request["latent_dim"])
        model = VAEGAN(config, encoder=Encoder(net, kind), decoder=Decoder(net, kind))
    labels = torch.zeros(len(train))
    with tempfile.TemporaryDirectory() as tmp:
        common = {
            "output_dir": tmp,
            "per_device_train_batch_size": 64,
            "per_device_eval_batch_size": 64,
            "num_epochs": request["epochs"],
            "no_cuda": True,
        }
        started = time.perf_counter()
        if kind == "vqvae":
            trainer = BaseTrainer(
                model,
                BaseDataset(train, labels),
                None,
                BaseTrainerConfig(learning_rate=2e-3, **common),
            )
        else:
            trainer = CoupledOptimizerAdversarialTrainer(
                model,
                BaseDataset(train, labels),
                None,
                CoupledOptimizerAdversarialTrainerConfig(
                    encoder_learning_rate=2e-3,
                    decoder_learning_rate=2e-3,
                    discriminator_learning_rate=2e-3,
                    **common,
                ),
            )
        trainer.train()
        seconds = time.perf_counter() - started
        model = trainer._best_model if trainer._best_model is not None else model
        model.eval()
        result = {"train_seconds": seconds}
        with torch.no_grad():
            recon = model.reconstruct(test)
        np.save(out / "recon.npy", recon.numpy())
        if kind == "vqvae":
            with torch.no_grad():
                indices = model({"data": test}).quantized_indices
            np.save(out / "indices.npy", indices.numpy())
            h, w = net.grid
            sampler = PixelCNNSampler(
                model, PixelCNNSamplerConfig(n_layers=4, kernel_size=5)
            )
            started = time.perf_counter()
            sampler.fit(
                train,
                training_config=BaseTrainerConfig(
                    learning_rate=1e-3,
                    **{**common, "num_epochs": request["prior_epochs"]},
                ),
            )
            result["prior_seconds"] = time.perf_counter() - started
            result["grid"] = [h, w]
            samples = sample_ema(model, sampler, request["n_samples"], h, w)
        else:
            samples = NormalSampler(model).sample(num_samples=request["n_samples"])
    np.save(out / "samples.npy", samples.numpy())
    (out / "result.json").write_text(json.dumps(result))
    return result


if __name__ == "__main__":
    request = json.loads(sys.stdin.read())
    torch.set_num_threads(request.get("threads", 1))
    print(json.dumps(run(request)), flush=True)
