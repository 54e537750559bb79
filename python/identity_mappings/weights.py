"""
Weights by plan name, in tfjs's weights format: `model.json` (a `weightsManifest` of names, shapes and dtypes) and
the float32 values concatenated in manifest order in the files its groups name (`weights.bin`). The page's
*Weights* export writes this format (src/persist/weights.ts), and the parity tests exchange tensors in it.

Tensors are kept in the plan's layout (NHWC: conv [k, k, cin, cout], fc [cin, classes]); to_torch / to_plan convert
to and from the module's layout (conv [cout, cin, k, k], fc [classes, cin]).
"""

from __future__ import annotations

import json
import os
from typing import Dict, Iterable, Optional, Tuple

import numpy as np
import torch

from .model import ResNet


def to_torch(role: str, array: np.ndarray) -> torch.Tensor:
    """A plan-layout array as the torch tensor of a parameter with this role."""
    t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if role == "conv":
        return t.permute(3, 2, 0, 1).contiguous()  # [k, k, cin, cout] → [cout, cin, k, k]
    if role == "fc-weight":
        return t.t().contiguous()  # [cin, classes] → [classes, cin]
    return t


def to_plan(role: str, tensor: torch.Tensor) -> np.ndarray:
    """A torch tensor of a parameter with this role in the plan's layout (float32, on the CPU)."""
    t = tensor.detach().to("cpu", torch.float32)
    if role == "conv":
        t = t.permute(2, 3, 1, 0)  # [cout, cin, k, k] → [k, k, cin, cout]
    elif role == "fc-weight":
        t = t.t()
    return np.ascontiguousarray(t.numpy())



def plan_state(model: ResNet, grads: bool = False) -> Dict[str, np.ndarray]:
    """Every plan parameter (BN running averages included) by plan name, or with grads=True every trainable
    parameter's gradient."""
    out = {}
    for spec in model.specs:
        t = model.plan_tensor(spec["name"])
        if grads:
            if not spec["trainable"]:
                continue
            if t.grad is None:
                raise ValueError(f"no gradient for {spec['name']}: it does not reach the loss")
            t = t.grad
        out[spec["name"]] = to_plan(spec["role"], t)
    return out


@torch.no_grad()
def load_plan_state(model: ResNet, arrays: Dict[str, np.ndarray]) -> None:
    """Sets every plan parameter from plan-layout arrays; each must be present with its planned shape."""
    for spec in model.specs:
        name = spec["name"]
        if name not in arrays:
            raise ValueError(f"the weights have no {name}")
        if list(arrays[name].shape) != list(spec["shape"]):
            raise ValueError(f"{name} has shape {list(arrays[name].shape)}, the plan says {spec['shape']}")
        t = model.plan_tensor(name)
        t.copy_(to_torch(spec["role"], arrays[name]).to(t.device))


def read_tfjs_weights(model_json: str) -> Tuple[Dict[str, np.ndarray], dict]:
    """The named float32 tensors of a tfjs weights manifest, and the whole model.json (its metadata)."""
    with open(model_json) as f:
        doc = json.load(f)
    folder = os.path.dirname(os.path.abspath(model_json))
    out: Dict[str, np.ndarray] = {}
    for group in doc["weightsManifest"]:
        raw = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32":
                raise ValueError(f"{w['name']} is {w['dtype']}; only float32 weights are read")
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            out[w["name"]] = np.frombuffer(raw, dtype="<f4", count=count, offset=offset).reshape(w["shape"]).copy()
            offset += 4 * count
        if offset != len(raw):
            raise ValueError(f"{group['paths']} hold {len(raw)} bytes, the manifest describes {offset}")
    return out, doc


def write_tfjs_weights(
    model_json: str, tensors: Iterable[Tuple[str, np.ndarray]], metadata: Optional[dict] = None, bin_name: str = "weights.bin"
) -> None:
    """Writes named tensors (float32, in the given order) as model.json + one .bin beside it."""
    entries, chunks = [], []
    for name, a in tensors:
        a = np.ascontiguousarray(a, dtype="<f4")
        entries.append({"name": name, "shape": list(a.shape), "dtype": "float32"})
        chunks.append(a.tobytes())
    folder = os.path.dirname(os.path.abspath(model_json))
    with open(os.path.join(folder, bin_name), "wb") as f:
        f.write(b"".join(chunks))
    doc = {
        "format": "identity-mappings-resnet-weights",
        "generatedBy": "identity_mappings (PyTorch)",
        "modelTopology": None,
        "userDefinedMetadata": metadata or {},
        "weightsManifest": [{"paths": [bin_name], "weights": entries}],
    }
    with open(model_json, "w") as f:
        json.dump(doc, f, indent=2)


MOMENTUM_PREFIX = "momentum/"  # the SGD momentum buffer of a trainable parameter, beside the parameters


def bin_name_for(model_json: str) -> str:
    """The .bin beside a model.json: `run-model.json` → `run-model.bin` (one per run, so runs can share a folder)."""
    base = os.path.basename(model_json)
    return (base[:-5] if base.endswith(".json") else base) + ".bin"


def export_weights(model_json: str, trainer, doc: dict) -> None:
    """A trained network in the format of the page's *Weights* export: every plan parameter (BN running averages
    included) by plan name in the plan's layout, then each momentum buffer as `momentum/<name>`; the metadata holds
    the link, config and iteration as the page writes them, plus what resuming needs (epoch, sampler position,
    hand-set rates), so the page can take it as the run's checkpoint."""
    net, opt = trainer.net, trainer.opt
    tensors = list(plan_state(net).items())
    for spec in net.specs:
        if spec["trainable"]:
            buf = opt.state.get(net.plan_tensor(spec["name"]), {}).get("momentum_buffer")
            if buf is not None:
                tensors.append((MOMENTUM_PREFIX + spec["name"], to_plan(spec["role"], buf)))
    metadata = {
        "link": doc["link"].split("?", 1)[-1],
        "config": trainer.config,
        "iteration": trainer.iter,
        "epoch": trainer.epoch,
        "sampler": trainer.sampler.state(),
        "lrChanges": [{"iter": i, "lr": lr} for i, lr in trainer.lr_changes],
        "run": doc["id"],
        "backend": doc["backend"],
        "torch": torch.__version__,
    }
    tmp_json = f"{model_json}.tmp.{os.getpid()}"
    write_tfjs_weights(tmp_json, tensors, metadata, bin_name=bin_name_for(model_json))
    os.replace(tmp_json, model_json)


def read_init_weights(model_json: str, model: ResNet) -> Tuple[Dict[str, np.ndarray], dict]:
    """Weights to start a run from (the page's *Weights* export or a PyTorch run's), checked against the network:
    every plan parameter present with its planned shape. Momentum buffers in the file are not used."""
    try:
        arrays, doc = read_tfjs_weights(model_json)
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"cannot read the weights {model_json} ({type(e).__name__}: {e})") from e
    params = {k: v for k, v in arrays.items() if not k.startswith(MOMENTUM_PREFIX)}
    for spec in model.specs:
        a = params.get(spec["name"])
        if a is None:
            raise ValueError(f"the weights {model_json} do not fit this network: they have no {spec['name']}")
        if list(a.shape) != list(spec["shape"]):
            raise ValueError(
                f"the weights {model_json} do not fit this network: {spec['name']} has shape {list(a.shape)}, the plan says {spec['shape']}"
            )
    extra = sorted(set(params) - set(model.spec_by_name))
    if extra:
        raise ValueError(f"the weights {model_json} do not fit this network: it has no {extra[0]}")
    return params, doc
