/**
 * PyTorch module export: a built-in spiking encoder as a self-contained Python file (plain
 * PyTorch, no snnTorch) plus its weights as safetensors, so a trained encoder can be fine-tuned
 * or scaled out with PyTorch (GPUs, DDP).
 *
 * The Python module computes our equations in our float32 order: the LIF recurrence as
 * ./../neurons/lif does it (fl(fl(β·U) + X) − θ·R, the reset from the previous step's spike, no
 * gradient through it, the surrogate's derivative at U − θ), BatchNorm in eval mode as
 * y = fl(x·scale + shift) with scale and shift in float64 (training mode is PyTorch's batch norm
 * with statistics over time × batch, as ours), and max pooling. Linear and Conv2d are PyTorch's,
 * so their sums are rounded in PyTorch's order, not ours: a membrane within a few float32 ulps
 * of θ can fire on one side and not the other (scripts/torch_export_check.py counts them).
 */
import { OptionError } from '../errors';
import { encodeSafetensors } from '../io/safetensors';
import type { Leaky } from '../neurons/modules';
import { surrogateSpec } from '../neurons/surrogate';
import type { Linear } from '../nn/layers';
import type { Module } from '../nn/module';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm';
import { SSLModel, SpikingConvNet, SpikingMlp, type SpikingEncoder } from '../ssl/models';

/** What {@link toTorch} returns: the Python source and the safetensors weights it loads. */
export interface TorchExport {
  /** A Python module defining the encoder; its `load()` reads the weights file from its own folder. */
  python: string;
  /** The encoder's state dict (PyTorch names and layouts), float32 safetensors. */
  weights: Uint8Array;
}

/** Options of {@link toTorch}. */
export interface ToTorchOptions {
  /** The weights file name the Python module loads by default, next to itself. Default 'encoder.safetensors'. */
  weightsFile?: string;
}

interface NeuronConfig {
  beta_shape: number[];
  reset: string;
  surrogate: { name: string; params: Record<string, number> };
  learn_beta: boolean;
  learn_threshold: boolean;
}

function neuronConfig(lif: Leaky, name: string): NeuronConfig {
  const surrogate = surrogateSpec(lif.surrogate);
  if (!surrogate) throw new OptionError(`toTorch: ${name} uses a custom surrogate, which has no Python counterpart; use a built-in one (atan, fastSigmoid, sigmoid, triangular, rectangular, straightThrough)`);
  const learnable = new Set(lif.namedParameters().map(([n]) => n));
  return { beta_shape: [...lif.beta.shape], reset: lif.reset, surrogate, learn_beta: learnable.has('beta'), learn_threshold: learnable.has('threshold') };
}

function normConfig(bn: BatchNorm1d | BatchNorm2d | null | undefined): { eps: number; momentum: number | null; affine: boolean } | null {
  return bn ? { eps: bn.eps, momentum: bn.momentum, affine: bn.weight !== null } : null;
}

/** The architecture as plain data for the Python side. */
function config(encoder: SpikingEncoder): Record<string, unknown> {
  if (encoder instanceof SpikingMlp && encoder.constructor === SpikingMlp) {
    const children = new Map<string, Module>(encoder.namedChildren());
    const hidden: number[] = [];
    const norms: unknown[] = [];
    const neurons: NeuronConfig[] = [];
    let inputs = 0;
    for (let i = 1; children.has(`fc${i}`); i++) {
      const fc = children.get(`fc${i}`) as Linear;
      if (i === 1) inputs = fc.inFeatures;
      hidden.push(fc.outFeatures);
      norms.push(normConfig(children.get(`bn${i}`) as BatchNorm1d | undefined));
      neurons.push(neuronConfig(children.get(`lif${i}`) as Leaky, `lif${i}`));
    }
    return { kind: 'mlp', inputs, hidden, norms, neurons };
  }
  if (encoder instanceof SpikingConvNet && encoder.constructor === SpikingConvNet) {
    const e = encoder;
    return {
      kind: 'conv', channels: [e.conv1.outChannels, e.conv2.outChannels], features: e.features,
      norms: [normConfig(e.bn1), normConfig(e.bn2), normConfig(e.bn3)],
      neurons: [neuronConfig(e.lif1, 'lif1'), neuronConfig(e.lif2, 'lif2'), neuronConfig(e.lif3, 'lif3')],
    };
  }
  throw new OptionError(`toTorch: expected a SpikingMlp, a SpikingConvNet or an SSLModel holding one, got ${encoder.constructor.name}`);
}

/**
 * Exports a built-in spiking encoder (or an {@link SSLModel}'s encoder) as a Python module in
 * plain PyTorch and its weights. Throws an `OptionError` for a custom surrogate or a model that
 * is not a built-in encoder.
 *
 * @example
 * ```ts
 * const { python, weights } = toTorch(encoder);
 * // write encoder.py and encoder.safetensors side by side, then in Python:
 * //   from encoder import load; net = load(); spikes = net(x)   # x: [T, B, 784]
 * ```
 */
export function toTorch(model: SpikingEncoder | SSLModel, options: ToTorchOptions = {}): TorchExport {
  const encoder = model instanceof SSLModel ? model.encoder : model;
  const weightsFile = options.weightsFile ?? 'encoder.safetensors';
  if (!/^[^"\\\n/]+$/.test(weightsFile)) throw new OptionError(`toTorch: weightsFile ${JSON.stringify(weightsFile)} must be a file name without quotes, backslashes, slashes or newlines`);
  const cfg = config(encoder);
  const weights = encodeSafetensors(encoder.stateDict(), { format: 'pt', producer: 'spikessl' });
  const fill: Record<string, string> = { '@CONFIG@': JSON.stringify(cfg), '@WEIGHTS@': weightsFile, '@KIND@': cfg.kind as string };
  return { python: PYTHON.replace(/@CONFIG@|@WEIGHTS@|@KIND@/g, (k) => fill[k]), weights };
}

const PYTHON = `"""A spiking encoder exported by spikessl (@KIND@), in plain PyTorch: no snnTorch needed.

    from encoder import load          # this file, next to its weights (@WEIGHTS@)
    net = load()                      # strict load_state_dict, eval mode
    spikes = net(x)                   # x: [T, B, 784] input spikes (float32) -> [T, B, F]
    rates = spikes.mean(0)            # the representation: firing rates [B, F]
    layers = net.forward_layers(x)    # every spiking layer's output spikes

The equations are spikessl's, in its float32 order. Leaky, with R_t = [U_{t-1} > theta]:
    subtract: U_t = beta*U_{t-1} + X_t - theta*R_t
    zero:     U_t = beta*(1 - R_t)*U_{t-1} + X_t
    none:     U_t = beta*U_{t-1} + X_t
    S_t = [U_t > theta],  U_0 = 0,  beta clamped to [0, 1];
backward uses the surrogate derivative at U_t - theta, and no gradient flows through R_t.
BatchNorm in eval mode: y = x*scale + shift in float64 (scale = gamma/sqrt(var + eps),
shift = beta - mean*scale), rounded once to float32; in training mode, PyTorch's batch norm with
statistics over time and batch. Linear and Conv2d are PyTorch's (their sums round in its order).
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F
from torch import nn

CONFIG = json.loads(r"""@CONFIG@""")
WEIGHTS = "@WEIGHTS@"


def surrogate_derivative(name, p, x):
    if name == "atan":
        z = (math.pi * p["alpha"] / 2) * x
        return (p["alpha"] / 2) / (1 + z * z)
    if name == "fastSigmoid":
        return 1 / (1 + p["slope"] * x.abs()) ** 2
    if name == "sigmoid":
        e = torch.exp(-(p["slope"] * x).abs())
        return p["slope"] * e / (1 + e) ** 2
    if name == "triangular":
        return (1 - x.abs() / p["width"]).clamp(min=0) / p["width"]
    if name == "rectangular":
        return (x.abs() < p["width"] / 2).to(x.dtype) / p["width"]
    if name == "straightThrough":
        return torch.ones_like(x)
    raise ValueError(f"unknown surrogate {name}")


class Spike(torch.autograd.Function):
    """H(x) = [x > 0] forward; the surrogate's derivative backward."""

    @staticmethod
    def forward(ctx, x, surrogate):
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * surrogate_derivative(ctx.surrogate["name"], ctx.surrogate["params"], x), None


class Leaky(nn.Module):
    def __init__(self, beta_shape, reset, surrogate, learn_beta, learn_threshold):
        super().__init__()
        self.reset, self.surrogate = reset, surrogate
        for name, value, learn in (("beta", torch.zeros(beta_shape), learn_beta), ("threshold", torch.zeros(()), learn_threshold)):
            if learn:
                self.register_parameter(name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)

    def forward(self, x):
        beta, theta = self.beta.clamp(0, 1), self.threshold
        mem = torch.zeros_like(x[0])
        out = []
        for t in range(x.shape[0]):
            r = (mem > theta).to(x.dtype)
            if self.reset == "subtract":
                mem = beta * mem + x[t] - theta * r
            elif self.reset == "zero":
                mem = beta * (1 - r) * mem + x[t]
            else:
                mem = beta * mem + x[t]
            out.append(Spike.apply(mem - theta, self.surrogate))
        return torch.stack(out)


class TimeNorm:
    """BatchNorm over channel axis 2 of [T, B, C, ...], statistics over time and batch."""

    def forward(self, x):
        if self.training:
            return super().forward(x.reshape(-1, *x.shape[2:])).reshape(x.shape)
        inv = 1.0 / torch.sqrt(self.running_var.double() + self.eps)
        scale = inv if self.weight is None else self.weight.double() * inv
        shift = -self.running_mean.double() * scale if self.bias is None else self.bias.double() - self.running_mean.double() * scale
        view = (-1,) + (1,) * (x.dim() - 3)
        return (x.double() * scale.view(view) + shift.view(view)).float()


class TimeBatchNorm1d(TimeNorm, nn.BatchNorm1d):
    pass


class TimeBatchNorm2d(TimeNorm, nn.BatchNorm2d):
    pass


class SpikingMlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.depth = len(c["hidden"])
        fan_in = c["inputs"]
        for i, h in enumerate(c["hidden"], 1):
            self.add_module(f"fc{i}", nn.Linear(fan_in, h))
            if c["norms"][i - 1] is not None:
                self.add_module(f"bn{i}", TimeBatchNorm1d(h, **c["norms"][i - 1]))
            self.add_module(f"lif{i}", Leaky(**c["neurons"][i - 1]))
            fan_in = h

    def forward_layers(self, x):
        out = []
        for i in range(1, self.depth + 1):
            cur = getattr(self, f"fc{i}")(x)
            if hasattr(self, f"bn{i}"):
                cur = getattr(self, f"bn{i}")(cur)
            x = getattr(self, f"lif{i}")(cur)
            out.append(x)
        return out

    def forward(self, x):
        return self.forward_layers(x)[-1]


class SpikingConvNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        c1, c2 = c["channels"]
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.fc = nn.Linear(c2 * 7 * 7, c["features"])
        for i, (channels, norm) in enumerate(((c1, TimeBatchNorm2d), (c2, TimeBatchNorm2d), (c["features"], TimeBatchNorm1d)), 1):
            if c["norms"][i - 1] is not None:
                self.add_module(f"bn{i}", norm(channels, **c["norms"][i - 1]))
            self.add_module(f"lif{i}", Leaky(**c["neurons"][i - 1]))

    def _norm(self, i, x):
        return getattr(self, f"bn{i}")(x) if hasattr(self, f"bn{i}") else x

    def forward_layers(self, x):
        T, B = x.shape[:2]
        s = x.reshape(T * B, 1, 28, 28)
        cur = F.max_pool2d(self.conv1(s), 2)
        s1 = self.lif1(self._norm(1, cur.reshape(T, B, *cur.shape[1:])))
        cur = F.max_pool2d(self.conv2(s1.reshape(T * B, *s1.shape[2:])), 2)
        s2 = self.lif2(self._norm(2, cur.reshape(T, B, *cur.shape[1:])))
        s3 = self.lif3(self._norm(3, self.fc(s2.reshape(T, B, -1))))
        return [s1, s2, s3]

    def forward(self, x):
        return self.forward_layers(x)[-1]


def read_safetensors(path):
    """A safetensors file (float32 entries) as a dict of tensors, without the safetensors package."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: {name} has dtype {e['dtype']}, expected F32")
        a, b = e["data_offsets"]
        raw = bytearray(data[8 + n + a : 8 + n + b])
        out[name] = (torch.frombuffer(raw, dtype=torch.float32) if raw else torch.zeros(0)).reshape(e["shape"]).clone()
    return out


def build():
    """The encoder with its architecture from CONFIG and zero weights."""
    return (SpikingMlp if CONFIG["kind"] == "mlp" else SpikingConvNet)(CONFIG)


def load(path=None):
    """The encoder with the exported weights (strict), in eval mode."""
    net = build()
    net.load_state_dict(read_safetensors(path or os.path.join(os.path.dirname(os.path.abspath(__file__)), WEIGHTS)), strict=True)
    return net.eval()
`;
