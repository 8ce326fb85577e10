#!/usr/bin/python3
"""NIR export check (not part of `npm test`), with Debian's h5py and PyTorch:

    apt-get install -y python3-h5py python3-torch
    /usr/bin/python3 scripts/nir_check.py
    /usr/bin/python3 scripts/nir_check.py --write-fixture   # also (re)writes test/fixtures/h5py_lif.nir

1. `node scripts/nir_export.mjs` writes three NIR files with spikessl's toNir (a 784-512-512 MLP with
   BatchNorm and zero reset, exact; the same MLP with subtract reset and the conv encoder, both
   exported with approximate: true), their input spike trains, and the output spikes of the network
   spikessl's fromNir builds from each file and of the encoder itself.
2. h5py (the HDF5 C library) opens each file, and every group, dataset, dtype and shape is checked
   against what `nir` 1.0.x requires: a root with a `version` string and the `node` graph; a graph
   with `type` "NIRGraph", a `nodes` group and [E, 2] string `edges`; each node exactly its class's
   fields (nir's reader passes them as keyword arguments, so an extra one breaks it), then the
   node types along every edge, inferred as NIRGraph.check_types does. If the `nir` package is
   importable, nir.read() must load the file too.
3. The graph is run here from the file alone, by NIR's equations with snnTorch's dt = 1e-4 (Euler:
   v <- (1 - dt/tau) v + (dt/tau)(v_leak + r I), a spike when v > v_threshold, then v <- v_reset), in
   float32 with PyTorch's Linear and Conv2d, and its spikes are compared with spikessl's. For the
   exact export they must also equal the encoder's.
Exits non-zero on any failure. With --write-fixture, writes a small NIR graph the way nir.write
does (h5py defaults, variable-length UTF-8 strings) for test/interop/nir.test.ts to read.
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DT = 1e-4
FLOAT = ("float", "array")
INTS = ("int", "array")
INT = ("int", "scalar")
# nir 1.0.x (nir/serialization.py read_node, nir/ir/*.py): field -> (kind, rank)
FIELDS = {
    "Input": {"shape": INTS},
    "Output": {"shape": INTS},
    "Affine": {"weight": FLOAT, "bias": FLOAT},
    "Linear": {"weight": FLOAT},
    "Conv2d": {"input_shape": INTS, "weight": FLOAT, "bias": FLOAT, "stride": INTS, "padding": INTS, "dilation": INTS, "groups": INT},
    "AvgPool2d": {"kernel_size": INTS, "stride": INTS, "padding": INTS},
    "SumPool2d": {"kernel_size": INTS, "stride": INTS, "padding": INTS},
    "Flatten": {"input_type": INTS, "start_dim": INT, "end_dim": INT},
    "LIF": {"tau": FLOAT, "r": FLOAT, "v_leak": FLOAT, "v_threshold": FLOAT, "v_reset": FLOAT},
    "IF": {"r": FLOAT, "v_threshold": FLOAT, "v_reset": FLOAT},
}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg)


def is_string(ds):
    return h5py.check_string_dtype(ds.dtype) is not None or ds.dtype.kind == "S"


def read_str(ds):
    v = ds[()]
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def check_node(path, g):
    """Checks one node group's fields; returns (type, {field: value})."""
    if "type" not in g or not isinstance(g["type"], h5py.Dataset) or not is_string(g["type"]) or g["type"].shape != ():
        fail(f"{path}: no scalar string 'type'")
        return None, {}
    t = read_str(g["type"])
    if t not in FIELDS:
        fail(f"{path}: type {t} is not one spikessl writes")
        return t, {}
    want = FIELDS[t]
    have = set(g.keys()) - {"type", "metadata"}
    if have != set(want):
        fail(f"{path} ({t}): fields {sorted(have)}, nir expects exactly {sorted(want)}")
    values = {}
    for name, (kind, rank) in want.items():
        if name not in g:
            continue
        ds = g[name]
        ok_kind = ds.dtype.kind == "f" if kind == "float" else ds.dtype.kind in "iu"
        if not ok_kind:
            fail(f"{path}/{name}: dtype {ds.dtype}, expected {kind}")
        if rank == "scalar" and ds.shape != ():
            fail(f"{path}/{name}: shape {ds.shape}, expected a scalar")
        if rank == "array" and len(ds.shape) == 0:
            fail(f"{path}/{name}: a scalar, expected an array")
        values[name] = ds[()]
    # Per-type shape rules.
    v = values
    if t == "Affine" and not (v["weight"].ndim == 2 and v["bias"].shape == (v["weight"].shape[0],)):
        fail(f"{path}: weight {v['weight'].shape} and bias {v['bias'].shape} do not fit")
    if t == "Conv2d":
        if v["weight"].ndim != 4 or v["bias"].shape != (v["weight"].shape[0],):
            fail(f"{path}: weight {v['weight'].shape} and bias {v['bias'].shape} do not fit")
        for name in ("input_shape", "stride", "padding", "dilation"):
            if v[name].shape != (2,):
                fail(f"{path}/{name}: shape {v[name].shape}, expected (2,)")
    if t in ("AvgPool2d", "SumPool2d"):
        for name in ("kernel_size", "stride", "padding"):
            if v[name].shape != (2,):
                fail(f"{path}/{name}: shape {v[name].shape}, expected (2,)")
    if t in ("LIF", "IF"):
        shapes = {name: v[name].shape for name in want}
        if len(set(shapes.values())) != 1:
            fail(f"{path}: parameters of different shapes {shapes} (nir asserts they are equal)")
        for name in want:
            if v[name].dtype != np.float32:
                fail(f"{path}/{name}: dtype {v[name].dtype}, expected float32 (snnTorch's)")
    return t, v


def out_type(t, v, inp):
    """Output shape of a node for input shape `inp`, and the input shape it declares (None: any)."""
    if t == "Input":
        return list(v["shape"]), None
    if t == "Output":
        return None, list(v["shape"])
    if t in ("Affine", "Linear"):
        return [v["weight"].shape[0]], [v["weight"].shape[1]]
    if t == "Conv2d":
        w = v["weight"]
        hw = [int((v["input_shape"][i] + 2 * v["padding"][i] - v["dilation"][i] * (w.shape[2 + i] - 1) - 1) // v["stride"][i] + 1) for i in range(2)]
        return [w.shape[0], *hw], [w.shape[1], *map(int, v["input_shape"])]
    if t in ("AvgPool2d", "SumPool2d"):
        hw = [int((inp[1 + i] + 2 * v["padding"][i] - v["kernel_size"][i]) // v["stride"][i] + 1) for i in range(2)]
        return [inp[0], *hw], None
    if t == "Flatten":
        s = list(map(int, v["input_type"]))
        a, b = int(v["start_dim"]), int(v["end_dim"])
        b = b if b >= 0 else len(s) + b
        return s[:a] + [int(np.prod(s[a : b + 1]))] + s[b + 1 :], s
    if t in ("LIF", "IF"):
        return list(v["r"].shape), list(v["r"].shape)
    raise ValueError(t)


def check_file(path):
    """Structure check; returns (nodes, chain order) for the simulation."""
    with h5py.File(path, "r") as f:
        if set(f.keys()) != {"version", "node"}:
            fail(f"{path}: root holds {sorted(f.keys())}, expected ['node', 'version']")
        if not is_string(f["version"]) or not read_str(f["version"]).startswith("1."):
            fail(f"{path}: version is not a 1.x string")
        g = f["node"]
        if read_str(g["type"]) != "NIRGraph" or set(g.keys()) - {"metadata"} != {"type", "nodes", "edges"}:
            fail(f"{path}: the graph group holds {sorted(g.keys())}")
        edges = g["edges"]
        if not is_string(edges) or edges.ndim != 2 or edges.shape[1] != 2:
            fail(f"{path}: edges {edges.dtype} {edges.shape}, expected strings [E, 2]")
        edges = [tuple(x.decode("utf8") if isinstance(x, bytes) else x for x in e) for e in edges[()]]
        nodes = {}
        for name, ng in g["nodes"].items():
            nodes[name] = check_node(f"{path}:/node/nodes/{name}", ng)
    # Type inference along the chain, as NIRGraph.check_types compares them.
    nxt = dict(edges)
    start = [n for n in nodes if n not in nxt.values()]
    order = [start[0]]
    while order[-1] in nxt:
        order.append(nxt[order[-1]])
    if len(order) != len(nodes):
        fail(f"{path}: not one chain")
    shape = None
    for name in order:
        t, v = nodes[name]
        out, declared = out_type(t, v, shape)
        if declared is not None and shape is not None and declared != shape:
            fail(f"{path}: type mismatch into {name} ({t}): {shape} -> {declared}")
        shape = out if out is not None else shape
    try:
        import nir  # noqa: F401  (Debian has no python3-nir; used when installed)

        nir.read(path)
        print(f"  nir.read({os.path.basename(path)}) ok")
    except ImportError:
        pass
    return nodes, order


def simulate(nodes, order, x):
    """Runs the chain on spikes x [T, B, ...] by NIR's equations (float32, dt = 1e-4, reset in the step)."""
    T, B = x.shape[:2]
    s = torch.from_numpy(x)
    for name in order:
        t, v = nodes[name]
        if t == "Input":
            s = s.reshape(T, B, *map(int, v["shape"]))
        elif t == "Affine":
            s = torch.nn.functional.linear(s, torch.from_numpy(v["weight"]), torch.from_numpy(v["bias"]))
        elif t == "Conv2d":
            y = torch.nn.functional.conv2d(s.reshape(T * B, *s.shape[2:]), torch.from_numpy(v["weight"]), torch.from_numpy(v["bias"]), stride=tuple(map(int, v["stride"])), padding=tuple(map(int, v["padding"])))
            s = y.reshape(T, B, *y.shape[1:])
        elif t == "AvgPool2d":
            y = torch.nn.functional.avg_pool2d(s.reshape(T * B, *s.shape[2:]), tuple(map(int, v["kernel_size"])), tuple(map(int, v["stride"])), tuple(map(int, v["padding"])))
            s = y.reshape(T, B, *y.shape[1:])
        elif t == "Flatten":
            s = s.flatten(2 + int(v["start_dim"]), int(v["end_dim"]) if int(v["end_dim"]) < 0 else 2 + int(v["end_dim"]))
        elif t == "LIF":
            tau = v["tau"].astype(np.float64)
            beta = torch.from_numpy((1 - DT / tau).astype(np.float32))
            gain = v["r"].astype(np.float64) * DT / tau
            assert np.all(np.abs(gain - 1) < 1e-6) and np.all(v["v_leak"] == 0), "only snnTorch's convention is simulated here"
            theta = torch.from_numpy(v["v_threshold"])
            reset = torch.from_numpy(v["v_reset"])
            mem = torch.zeros(s.shape[1:])
            out = []
            for step in range(T):
                mem = beta * mem + s[step]
                spk = (mem > theta).float()
                mem = torch.where(spk > 0, reset, mem)
                out.append(spk)
            s = torch.stack(out)
        elif t == "Output":
            pass
        else:
            raise ValueError(t)
    return s.numpy()


def write_fixture(path):
    # Input [3] -> Affine -> LIF (tau 2e-4, r 2: beta 0.5, unit input gain; threshold 0.6) -> Output, as nir.write lays it out.
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0.7")
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
        nodes = g.create_group("nodes")
        fields = {
            "input": {"type": "Input", "shape": np.array([3])},
            "affine": {"type": "Affine", "weight": np.array([[0.5, -1, 0.25], [1, 0.5, -0.5]], np.float32), "bias": np.array([0.1, 0], np.float32)},
            "lif": {"type": "LIF", "tau": np.full(2, 2e-4, np.float32), "r": np.full(2, 2, np.float32), "v_leak": np.zeros(2, np.float32), "v_threshold": np.full(2, 0.6, np.float32), "v_reset": np.zeros(2, np.float32)},
            "output": {"type": "Output", "shape": np.array([2])},
        }
        for name, node in fields.items():
            ng = nodes.create_group(name)
            for k, val in node.items():
                if isinstance(val, str):
                    ng.create_dataset(k, data=val, dtype=h5py.string_dtype())
                else:
                    ng.create_dataset(k, data=val, dtype=val.dtype)
        g.create_dataset("edges", data=[("input", "affine"), ("affine", "lif"), ("lif", "output")])
    print(f"wrote {path}")


def main():
    if "--write-fixture" in sys.argv:
        write_fixture(os.path.join(ROOT, "test", "fixtures", "h5py_lif.nir"))
    with tempfile.TemporaryDirectory() as d:
        print(subprocess.run(["node", os.path.join(ROOT, "scripts", "nir_export.mjs"), d], check=True, capture_output=True, text=True, cwd=ROOT).stdout, end="")
        for name in ("mlp_zero", "mlp_approx", "conv_approx"):
            path = os.path.join(d, f"{name}.nir")
            nodes, order = check_file(path)
            io = json.load(open(os.path.join(d, f"{name}.json")))
            x = np.array(io["input"], np.float32).reshape(io["input_shape"])
            ours = np.array(io["nir_spikes"], np.float32).reshape(io["output_shape"])
            enc = np.array(io["encoder_spikes"], np.float32).reshape(io["output_shape"])
            sim = simulate(nodes, order, x)
            diff = int((sim != ours).sum())
            print(f"{name}: {len(nodes)} nodes, chain {' -> '.join(order)}")
            print(f"  NIR equations in PyTorch vs spikessl fromNir: {diff} of {ours.size} spikes differ; density {ours.mean():.4f}")
            if diff:
                fail(f"{name}: {diff} spikes differ between the PyTorch simulation and spikessl")
            agree = float((enc == ours).mean())
            print(f"  spikessl encoder vs its NIR export: {agree * 100:.3f}% of outputs equal")
            if name == "mlp_zero" and agree != 1:
                fail(f"{name}: the exact export does not reproduce the encoder's spikes")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
