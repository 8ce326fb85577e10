"""The reference step R1 in PyTorch, driven over stdin/stdout by bench/peers/run.mjs.

R1 (batch B, T = 8): two Poisson views -> Linear 784->512 -> Leaky -> Linear 512->512 -> Leaky
-> firing rate (mean over T) -> projector (Linear 512->512, BatchNorm1d, ReLU, Linear 512->512)
-> Barlow Twins (lambda 5e-3, per-dimension standardisation over the batch, biased variance,
eps 1e-5) -> backward -> Adam lr 1e-3.

Leaky is hand-written as a torch.autograd.Function: U_t = beta*U_{t-1} + I_t - theta*S_{t-1}
(subtract reset, the reset detached), S_t = H(U_t - theta), beta 0.9, theta 1; backward uses the
atan surrogate sigma'(x) = (alpha/2) / (1 + (pi*alpha*x/2)^2), alpha 2. Each Linear is applied
to all T steps at once ([T*B, in] @ W^T).

Run with Debian's interpreter: /usr/bin/python3 r1_torch.py --threads 1 --batch 256 [--weight-scale s]
Protocol: one JSON line {"ready": ...} after loading; each stdin line {"steps": n} runs n steps
and answers {"ms": [...]}; {"features": n} runs n feature extractions instead (one Poisson view
of a batch -> encoder -> firing rates of the last layer, under torch.no_grad()); {"quit": true}
or end of input stops.
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

BETA, THETA, ALPHA, T = 0.9, 1.0, 2.0, 8


class LeakyFn(torch.autograd.Function):
    """Leaky integrate-and-fire over all T steps of currents [T, B, N] -> spikes [T, B, N]."""

    @staticmethod
    def forward(ctx, cur):
        mem = torch.zeros_like(cur[0])
        spk = torch.zeros_like(cur[0])
        spikes = torch.empty_like(cur)
        shifted = torch.empty_like(cur)  # U_t - theta, for the surrogate
        for t in range(cur.shape[0]):
            mem = BETA * mem + cur[t] - THETA * spk
            torch.sub(mem, THETA, out=shifted[t])
            spk = (shifted[t] > 0).to(cur.dtype)
            spikes[t] = spk
        ctx.save_for_backward(shifted)
        return spikes

    @staticmethod
    def backward(ctx, grad):
        (shifted,) = ctx.saved_tensors
        k = math.pi * ALPHA / 2
        # dL/dU_t = g_t * sigma'(U_t - theta) + beta * dL/dU_{t+1}; the reset is detached, so
        # dU_{t+1}/dU_t = beta and dU_t/dI_t = 1: the current's gradient is dL/dU_t.
        gs = grad * ((ALPHA / 2) / (1 + (k * shifted) ** 2))
        out = torch.empty_like(gs)
        carry = torch.zeros_like(gs[0])
        for t in range(gs.shape[0] - 1, -1, -1):
            carry = gs[t] + BETA * carry
            out[t] = carry
        return out


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 512)

    def forward(self, x):  # x [T, B, 784] spikes
        Tn, B, _ = x.shape
        s1 = LeakyFn.apply(self.fc1(x.reshape(Tn * B, -1)).reshape(Tn, B, -1))
        s2 = LeakyFn.apply(self.fc2(s1.reshape(Tn * B, -1)).reshape(Tn, B, -1))
        return s1, s2


def barlow_twins(z1, z2, lam=5e-3, eps=1e-5):
    n = z1.shape[0]

    def standardize(z):
        return (z - z.mean(0, keepdim=True)) / torch.sqrt(z.var(0, unbiased=False, keepdim=True) + eps)

    c = standardize(z1).T @ standardize(z2) / n
    d = torch.diagonal(c)
    return ((1 - d) ** 2).sum() + lam * ((c**2).sum() - (d**2).sum())


def read_mnist(n):
    path = os.environ["MNIST_IMAGES"]
    with open(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x803 or rows != 28 or cols != 28:
            raise ValueError(f"{path}: not an IDX [N, 28, 28] uint8 file")
        if n > count:
            raise ValueError(f"{path}: asked for {n} images, the file has {count}")
        data = np.frombuffer(f.read(n * 784), dtype=np.uint8)
    return torch.from_numpy(data.astype(np.float32) / np.float32(255)).reshape(n, 784)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--batches", type=int, default=8)
    p.add_argument("--weight-scale", type=float, default=1.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    images = read_mnist(a.batch * a.batches)
    encoder = Encoder()
    with torch.no_grad():  # same as ours.ts: scale the encoder's Linear weights at init
        encoder.fc1.weight.mul_(a.weight_scale)
        encoder.fc2.weight.mul_(a.weight_scale)
    head = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 512))
    opt = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=1e-3)
    state = {"k": 0, "density": []}

    def step():
        b = state["k"] % a.batches
        state["k"] += 1
        x = images[b * a.batch : (b + 1) * a.batch]
        t0 = time.perf_counter()
        v1 = (torch.rand(T, *x.shape) < x).to(torch.float32)
        v2 = (torch.rand(T, *x.shape) < x).to(torch.float32)
        l1 = encoder(v1)
        l2 = encoder(v2)
        loss = barlow_twins(head(l1[1].mean(0)), head(l2[1].mean(0)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ms = (time.perf_counter() - t0) * 1000
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"torch: loss is {loss.item()}")
        state["density"] = [v1.mean().item(), l1[0].mean().item(), l1[1].mean().item()]
        return ms

    def feature():
        b = state["k"] % a.batches
        state["k"] += 1
        x = images[b * a.batch : (b + 1) * a.batch]
        t0 = time.perf_counter()
        with torch.no_grad():
            v = (torch.rand(T, *x.shape) < x).to(torch.float32)
            rates = encoder(v)[1].mean(0)
        ms = (time.perf_counter() - t0) * 1000
        if tuple(rates.shape) != (a.batch, 512):
            raise RuntimeError(f"torch: features of shape {tuple(rates.shape)}")
        return ms

    def send(o):
        sys.stdout.write(json.dumps(o) + "\n")
        sys.stdout.flush()

    send({"ready": True, "engine": "torch", "version": torch.__version__, "threads": torch.get_num_threads(), "batch": a.batch})
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd.get("quit"):
            break
        if "features" in cmd:
            ms = [feature() for _ in range(cmd["features"])]
        else:
            ms = [step() for _ in range(cmd.get("steps", 1))]
        send({"ms": ms, "density": state["density"], "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


if __name__ == "__main__":
    main()
