#!/usr/bin/python3
"""PyTorch <-> spikessl safetensors interop check (not part of `npm test`).

Run from the repository root with Debian's Python and PyTorch (`apt-get install -y python3-torch`):

    /usr/bin/python3 scripts/torch_safetensors_check.py
    /usr/bin/python3 scripts/torch_safetensors_check.py --write-fixture   # also (re)writes test/fixtures/torch_dtypes.safetensors

Debian has no python3-safetensors package, so the file format is read and written below with
struct/json/torch.frombuffer, following the safetensors spec (u64 LE header length, JSON header,
entries sorted by descending alignment then name, header padded with spaces to 8 bytes).

1. spikessl writes nn.Sequential(Linear(3, 2), BatchNorm1d(2)) state (scripts/torch_interop.mjs);
   PyTorch loads it with load_state_dict(strict=True) and must reproduce the eval-mode outputs that
   spikessl computed from the layer equations.
2. PyTorch writes every dtype spikessl reads (F32 F64 F16 BF16 I64 I32 U8) plus a trained model's
   state dict; spikessl decodes the files and every value must equal torch's own `.float()` conversion
   exactly, and the raw values must equal the stored ones.
Exits non-zero on any mismatch.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {
    "F64": torch.float64, "I64": torch.int64, "F32": torch.float32, "I32": torch.int32,
    "F16": torch.float16, "BF16": torch.bfloat16, "U8": torch.uint8,
}
NAMES = {v: k for k, v in DTYPES.items()}


def save(tensors, path, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in items:
        t = t.detach().contiguous().cpu()
        # bytes of the tensor's memory (x86: little-endian); 16-bit floats through int16
        blob = (t.view(torch.int16) if t.dtype in (torch.float16, torch.bfloat16) else t).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(body[b:e]), dtype=dtype) if e > b else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out, metadata


def spikessl(*args):
    return subprocess.run(["node", os.path.join(ROOT, "scripts", "torch_interop.mjs"), *args], check=True, capture_output=True, text=True, cwd=ROOT).stdout


def dtype_tensors():
    """Every dtype spikessl reads, with values that probe rounding and special cases."""
    return {
        "f32": torch.tensor([[1.5, -2.25, 3.0e38], [1e-45, -0.0, float("inf")]], dtype=torch.float32),
        "f64": torch.tensor([0.1, -1e300, 1.0 + 2.0**-30, 1e-310], dtype=torch.float64),
        "f16": torch.tensor([1.0, -2.0, 65504.0, 2.0**-24, 0.333251953125, float("-inf")], dtype=torch.float16),
        "bf16": torch.tensor([1.0, 3.140625, -1e38, 2.0**-133], dtype=torch.bfloat16),
        "i64": torch.tensor([-2, 2**32, 2**60 + 2**36 + 1, -(2**63), 2**63 - 1], dtype=torch.int64),
        "i32": torch.tensor([-7, 2**31 - 1, 16777217], dtype=torch.int32),
        "u8": torch.tensor([[0, 7], [128, 255]], dtype=torch.uint8),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
    }


def check_decoded(path, tensors):
    """spikessl's decode of `path` must equal torch's float32 conversion and the stored values."""
    got = json.loads(spikessl("read", path))["entries"]
    assert sorted(got) == sorted(tensors), (sorted(got), sorted(tensors))
    for name, t in tensors.items():
        g = got[name]
        assert g["dtype"] == NAMES[t.dtype], (name, g["dtype"])
        assert g["shape"] == list(t.shape), (name, g["shape"])
        want = t.float().flatten().tolist()
        values = [float(v) for v in g["values"]]  # JSON gives ints for integral values; compare as floats
        assert all((a == b) or (a != a and b != b) for a, b in zip(values, want)) and len(values) == len(want), (name, values, want)
        stored = (t.view(torch.int16).to(torch.int32) & 0xFFFF if t.dtype in (torch.float16, torch.bfloat16) else t).flatten().tolist()
        raw = [int(v) if t.dtype == torch.int64 else (float(v) if isinstance(v, str) else v) for v in g["raw"]]
        assert raw == stored, (name, raw, stored)
    return len(tensors)


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        # 1. spikessl -> PyTorch
        model_file, io_file = os.path.join(tmp, "model.safetensors"), os.path.join(tmp, "io.safetensors")
        print(spikessl("write", model_file, io_file).strip())
        state, metadata = load(model_file)
        io, _ = load(io_file)
        model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
        result = model.load_state_dict(state, strict=True)
        model.eval()
        with torch.no_grad():
            y = model(io["x"])
        err = (y.double() - io["expected"]).abs().max().item()
        print(f"spikessl -> torch: load_state_dict(strict=True) {result}; metadata {metadata}; "
              f"num_batches_tracked {model[1].num_batches_tracked.item()} ({model[1].num_batches_tracked.dtype}); "
              f"max |torch eval output - spikessl expected| = {err:.3g}")
        if err > 1e-5 or model[1].num_batches_tracked.item() != 7:
            failures += 1
            print("  MISMATCH")

        # 2. PyTorch -> spikessl: every dtype, and a trained model's state dict
        torch.manual_seed(0)
        trained = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
        opt = torch.optim.SGD(trained.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            trained(torch.rand(32, 784)).square().mean().backward()
            opt.step()
        for label, tensors in (("all dtypes", dtype_tensors()), ("trained Linear/BatchNorm state dict", dict(trained.state_dict()))):
            path = os.path.join(tmp, "torch.safetensors")
            save(tensors, path, {"format": "pt"})
            try:
                n = check_decoded(path, tensors)
                print(f"torch -> spikessl ({label}): {n} tensors, every value equal to torch's .float() and raw values exact")
            except AssertionError as e:
                failures += 1
                print(f"torch -> spikessl ({label}): MISMATCH {e}")

    if "--write-fixture" in sys.argv:
        fixture = os.path.join(ROOT, "test", "fixtures", "torch_dtypes.safetensors")
        os.makedirs(os.path.dirname(fixture), exist_ok=True)
        save(dtype_tensors(), fixture, {"format": "pt", "writer": "scripts/torch_safetensors_check.py"})
        print(f"wrote {os.path.relpath(fixture, ROOT)} ({os.path.getsize(fixture)} bytes)")
    print("OK" if failures == 0 else f"{failures} check(s) FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
