"""One training step of ours against PyTorch's, part 2 of 2: replays the steps step_ours.mjs
dumped in the PyTorch reference R1 (r1_torch.py) and compares.

usage: /usr/bin/python3 bench/peers/step_compare.py DATADIR [--double] [--all]

1. free run: torch starts from our initial state and takes every step on the same views;
   compares loss, step-1 gradients, parameters and BN buffers after each step.
2. teacher-forced: at each step k, torch is loaded with OUR state before step k and computes
   the gradient on the same views; compares it with our gradient of step k (per-step error,
   without accumulated drift).
Started from a checkpoint (step_ours.mjs with START=...), torch's Adam starts from our Adam state.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from r1_torch import T, Encoder, barlow_twins  # noqa: E402

torch.set_num_threads(1)
args = [a for a in sys.argv[1:] if not a.startswith("--")]
DATA = args[0] if args else "step-data"
DOUBLE = "--double" in sys.argv
meta = json.load(open(f"{DATA}/meta.json"))
B = 256
DT = torch.float64 if DOUBLE else torch.float32


def load_flat(path, manifest):
    flat = np.fromfile(path, dtype=np.float32)
    out, o = {}, 0
    for e in manifest:
        n = int(np.prod(e["shape"])) if e["shape"] else 1
        out[e["name"]] = flat[o : o + n].reshape(e["shape"])
        o += n
    assert o == flat.size, (o, flat.size)
    return out


def build():
    enc = Encoder()
    head = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 512))
    if DOUBLE:
        enc, head = enc.double(), head.double()
    return enc, head


def torch_name(ours):
    if ours.startswith("encoder."):
        return "enc", ours[len("encoder.") :]
    return "head", ours[len("projector.") :]


def load_state(enc, head, state):
    mods = {"enc": enc, "head": head}
    sds = {"enc": enc.state_dict(), "head": head.state_dict()}
    for k, v in state.items():
        m, n = torch_name(k)
        if n.startswith("lif"):
            assert abs(float(v) - (0.9 if n.endswith("beta") else 1.0)) < 1e-7, (k, v)
            continue
        with torch.no_grad():
            t = sds[m][n]
            t.copy_(torch.from_numpy(np.array(v)).to(t.dtype).reshape(t.shape))
    return mods


def params_of(enc, head):
    d = {}
    for n, p in enc.named_parameters():
        d["encoder." + n] = p
    for n, p in head.named_parameters():
        d["projector." + n] = p
    return d


def buffers_of(enc, head):
    return {"projector." + n: b for n, b in head.named_buffers()}


def views(k):
    u = np.fromfile(f"{DATA}/views_{k}.u8", dtype=np.uint8).reshape(2, T, B, 784)
    return torch.from_numpy(u[0].astype(np.float32)).to(DT), torch.from_numpy(u[1].astype(np.float32)).to(DT)


def forward_loss(enc, head, v1, v2):
    # exactly r1_train_torch.py's step
    return barlow_twins(head(enc(v1)[1].mean(0)), head(enc(v2)[1].mean(0)))


def cmp(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = np.abs(a - b).max()
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-30)
    return d, d / scale


def report(title, ours, theirs, names):
    print(f"  {title}")
    for n in names:
        d, r = cmp(ours[n], theirs[n])
        print(f"    {n:28s} max|diff| {d:.3e}   rel-to-max {r:.3e}   max|ours| {np.abs(ours[n]).max():.3e}")


state_man, grad_man = meta["stateManifest"], meta["gradManifest"]
N = meta["steps"]
s0 = load_flat(f"{DATA}/state_0.f32", state_man)
ADAM_STEP = meta.get("adamStep", 0)


def ours_order(params):
    """The parameters in our order (the gradient manifest's), for Adam's state."""
    return {e["name"]: params[e["name"]] for e in grad_man}


def adam_from_ours(P):
    """torch.optim.Adam over P (our parameter order), in our Adam state when we started from a checkpoint."""
    opt = torch.optim.Adam(list(P.values()), lr=1e-3)
    if ADAM_STEP:
        flat = np.fromfile(f"{DATA}/adam.f32", dtype=np.float32)
        o = 0
        for e in grad_man:
            n = int(np.prod(e["shape"]))
            m, v = flat[o : o + n], flat[o + n : o + 2 * n]
            o += 2 * n
            p = P[e["name"]]
            opt.state[p] = {"step": torch.tensor(float(ADAM_STEP)), "exp_avg": torch.from_numpy(m.reshape(e["shape"]).copy()).to(p.dtype),
                            "exp_avg_sq": torch.from_numpy(v.reshape(e["shape"]).copy()).to(p.dtype)}
        assert o == flat.size
    return opt


# ---------------------------------------------------------------- free run
enc, head = build()
load_state(enc, head, s0)
P = ours_order(params_of(enc, head))
opt = adam_from_ours(P)
print(f"== free run ({'float64' if DOUBLE else 'float32'} torch) from our initial state, same views ==")
pnames = [e["name"] for e in grad_man]
for k in range(1, N + 1):
    v1, v2 = views(k)
    loss = forward_loss(enc, head, v1, v2)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    g_t = {n: p.grad.detach().numpy().copy() for n, p in P.items()}
    opt.step()
    ours_loss = meta["losses"][k - 1]
    st = load_flat(f"{DATA}/state_{k}.f32", state_man)
    after = {n: p.detach().numpy() for n, p in P.items()}
    after.update({n: b.detach().numpy() for n, b in buffers_of(enc, head).items()})
    print(f"step {k}: loss ours {ours_loss:.7f} torch {loss.item():.7f} (rel {abs(ours_loss - loss.item()) / abs(loss.item()):.2e})")
    if k == 1 or k == N or "--all" in sys.argv:
        if k == 1:
            g_o = load_flat(f"{DATA}/grad_1.f32", grad_man)
            report("gradients at step 1", g_o, g_t, pnames)
        report(f"parameters after step {k}", st, after, pnames)
        if k == 1:
            print("  step-1 parameters that moved differently (|diff| > 1e-5): count, and their |grad| (ours, torch)")
            for n in pnames:
                m = np.abs(st[n] - after[n]) > 1e-5
                if m.any():
                    print(f"    {n:28s} {int(m.sum()):7d} of {m.size:7d}; max |grad ours| {np.abs(g_o[n][m]).max():.2e}, max |grad torch| {np.abs(g_t[n][m]).max():.2e}; "
                          f"sign differs in {int((np.sign(g_o[n][m]) != np.sign(g_t[n][m])).sum())}")
        report(f"BatchNorm buffers after step {k}", st, after, ["projector.1.running_mean", "projector.1.running_var", "projector.1.num_batches_tracked"])
    else:
        worst = max(cmp(st[n], after[n])[1] for n in pnames)
        print(f"   worst parameter rel-to-max diff {worst:.3e}")

# ---------------------------------------------------------------- teacher-forced
print("== teacher-forced: torch gradient from OUR state before each step ==")
for k in range(1, N + 1):
    enc, head = build()
    load_state(enc, head, load_flat(f"{DATA}/state_{k - 1}.f32", state_man))
    P = params_of(enc, head)
    v1, v2 = views(k)
    loss = forward_loss(enc, head, v1, v2)
    loss.backward()
    g_o = load_flat(f"{DATA}/grad_{k}.f32", grad_man)
    rels = {n: cmp(g_o[n], P[n].grad.numpy()) for n in pnames}
    # cosine between the full gradient vectors
    go = np.concatenate([g_o[n].ravel() for n in pnames]).astype(np.float64)
    gt = np.concatenate([P[n].grad.numpy().ravel() for n in pnames]).astype(np.float64)
    cos = go @ gt / np.linalg.norm(go) / np.linalg.norm(gt)
    worst = max(rels, key=lambda n: rels[n][1])
    print(f"step {k}: loss ours {meta['losses'][k - 1]:.7f} torch {loss.item():.7f}; grad cos {cos:.9f}; worst {worst} rel {rels[worst][1]:.2e}; "
          + " ".join(f"{n.split('.')[-2]}.{n.split('.')[-1][0]}:{rels[n][1]:.1e}" for n in pnames))

# ---------------------------------------------------------------- teacher-forced BN buffers
print("== teacher-forced BatchNorm buffers: torch forward from OUR state before step k vs OUR buffers after step k ==")
worst_bn = [0.0, 0.0]
for k in range(1, N + 1):
    enc, head = build()
    load_state(enc, head, load_flat(f"{DATA}/state_{k - 1}.f32", state_man))
    v1, v2 = views(k)
    with torch.no_grad():
        forward_loss(enc, head, v1, v2)
    st = load_flat(f"{DATA}/state_{k}.f32", state_man)
    bufs = buffers_of(enc, head)
    for i, n in enumerate(["projector.1.running_mean", "projector.1.running_var"]):
        worst_bn[i] = max(worst_bn[i], cmp(st[n], bufs[n].numpy())[1])
print(f"  worst rel-to-max over {N} steps: running_mean {worst_bn[0]:.2e}, running_var {worst_bn[1]:.2e}")

# ---------------------------------------------------------------- Adam replay
print("== Adam replay: torch.optim.Adam fed OUR gradients of every step, from our initial state ==")
enc, head = build()
load_state(enc, head, s0)
P = ours_order(params_of(enc, head))
opt = adam_from_ours(P)
for k in range(1, N + 1):
    g_o = load_flat(f"{DATA}/grad_{k}.f32", grad_man)
    for n, p in P.items():
        p.grad = torch.from_numpy(g_o[n].copy()).to(p.dtype)
    opt.step()
    st = load_flat(f"{DATA}/state_{k}.f32", state_man)
    worst = max(pnames, key=lambda n: cmp(st[n], P[n].detach().numpy())[0])
    if k in (1, 2, 5, 10, N):
        print(f"  after step {k}: worst max|diff| {cmp(st[worst], P[worst].detach().numpy())[0]:.2e} ({worst})")
