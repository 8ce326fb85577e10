#!/usr/bin/python3
"""PyTorch module export check (not part of `npm test`), with Debian's PyTorch:

    apt-get install -y python3-torch
    /usr/bin/python3 scripts/torch_export_check.py

`node scripts/torch_export.mjs` exports two encoders with spikessl's toTorch (the reference R1 MLP,
subtract reset, BatchNorm; the conv encoder 16-32-512, zero reset, fastSigmoid) as a Python file
and safetensors weights, with input spike trains and the spikes of every spiking layer computed by
spikessl. Here the generated module is imported as it is (plain PyTorch), loads its weights with a
strict load_state_dict, runs in eval mode on the same input, and must give the same spikes and
firing rates. Linear and Conv2d sum in PyTorch's order, not spikessl's, so a membrane within a few
float32 ulps of the threshold may fire on one side only: the differing spikes are counted and must
be at most 1 in 10,000 per layer. Then one training-mode step (BatchNorm on batch statistics,
surrogate gradients) on the first 4 samples: the loss sum of squared firing rates and every
parameter's gradient must match spikessl's to a relative difference (L2) below 1e-3. Exits non-zero on any failure.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def main():
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["node", os.path.join(ROOT, "scripts", "torch_export.mjs"), d], check=True, cwd=ROOT)
        for name in ("mlp", "conv"):
            spec = importlib.util.spec_from_file_location(f"exported_{name}", os.path.join(d, name, "encoder.py"))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            net = mod.load()
            io = json.load(open(os.path.join(d, name, "io.json")))
            x = torch.tensor(io["input"], dtype=torch.float32).reshape(io["input_shape"])
            with torch.no_grad():
                layers = net.forward_layers(x)
            print(f"{name}: {sum(p.numel() for p in net.state_dict().values())} values in the state dict, input {list(x.shape)}")
            for i, (ours, theirs) in enumerate(zip(io["layers"], layers), 1):
                s = torch.tensor(ours["spikes"], dtype=torch.float32).reshape(ours["shape"])
                if list(theirs.shape) != ours["shape"]:
                    failures.append(f"{name} layer {i}: shape {list(theirs.shape)} vs {ours['shape']}")
                    continue
                diff = int((s != theirs).sum())
                rate_diff = float((s.mean(0) - theirs.mean(0)).abs().max())
                print(f"  layer {i}: {diff} of {s.numel()} spikes differ, density {float(s.mean()):.4f} vs {float(theirs.mean()):.4f}, largest firing-rate difference {rate_diff:.4f}")
                if diff > s.numel() / 10000:
                    failures.append(f"{name} layer {i}: {diff} spikes differ")
            # Fine-tuning works: training mode, surrogate gradients reach every parameter.
            net.train()
            loss = net(x[:, :4]).mean(0).pow(2).sum()
            loss.backward()
            print(f"  training step: loss {float(loss):.6f} here, {io['loss']:.6f} in spikessl")
            largest = max(float(torch.tensor(v).norm()) for v in io["grads"].values())
            for n, p in net.named_parameters():
                ours = torch.tensor(io["grads"][n], dtype=torch.float64).reshape(p.shape)
                g = p.grad.double() if p.grad is not None else torch.zeros_like(ours)
                rel = float((g - ours).norm() / ours.norm().clamp(min=1e-30))
                # A bias right before a training-mode BatchNorm has gradient 0 in exact arithmetic (the
                # batch mean removes it): both sides then hold rounding noise, far below the other gradients.
                noise = max(float(g.norm()), float(ours.norm())) < 1e-6 * largest
                print(f"    d loss / d {n}: " + (f"zero up to rounding on both sides (norms {float(g.norm()):.1e}, {float(ours.norm()):.1e})" if noise else f"relative difference {rel:.2e} (norm {float(ours.norm()):.4g})"))
                if not (rel < 1e-3 or noise):
                    failures.append(f"{name}: gradient of {n} differs by {rel:.2e}")
    for f in failures:
        print("FAIL", f)
    if failures:
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
