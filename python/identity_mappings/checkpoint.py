"""
Checkpoints of a PyTorch run: everything needed to continue the same curve, as the page's checkpoints
(src/train/checkpoint.ts): every plan parameter (BN running averages included) and SGD momentum buffer by plan
name, the iteration, the sampler's position (the data order and the crops and flips are derived from the seed and the
iteration, so nothing else about the data is stored), the hand-set learning rates, the training time so far and the
run JSON up to here (its history), so a resumed run continues the same curve and the same file.

One file written by rank 0 (the replicas are equal), atomically: a run killed while writing keeps the previous one.
Tensors are stored in torch's layout on the CPU, so a checkpoint of a CUDA run resumes on the CPU and the other way
round, and with another number of processes (the protocol does not depend on it).
"""

from __future__ import annotations

import json
import os
import time
from typing import Dict, Tuple

import torch

FORMAT = "identity-mappings-pytorch-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be resumed from; the message says why in one sentence."""


def default_path(out: str) -> str:
    """Where a run writing `out` keeps its checkpoint: beside it, `run.json` → `run.ckpt.pt`."""
    stem = out[:-5] if out.endswith(".json") else out
    return f"{stem}.ckpt.pt"


def save(path: str, trainer, doc: dict, elapsed_ms: float) -> None:
    """Writes the trainer's state and the run document so far (rank 0 only)."""
    net, opt = trainer.net, trainer.opt
    params = {s["name"]: net.plan_tensor(s["name"]).detach().cpu().clone() for s in net.specs}
    momentum = {}
    for s in net.specs:
        if s["trainable"]:
            buf = opt.state.get(net.plan_tensor(s["name"]), {}).get("momentum_buffer")
            if buf is not None:
                momentum[s["name"]] = buf.detach().cpu().clone()
    # Tensors and strings only: the scalars travel as JSON, so torch.load(weights_only=True) reads it on torch 1.13.
    meta = {
        "link": doc["link"],
        "config": trainer.config,
        "iter": trainer.iter,
        "sampler": trainer.sampler.state(),
        "lrChanges": [[int(i), float(lr)] for i, lr in trainer.lr_changes],
        "elapsedMs": float(elapsed_ms),
        "savedAt": int(time.time() * 1000),
        "run": doc,
    }
    state = {"format": FORMAT, "version": VERSION, "meta": json.dumps(meta, default=str), "params": params, "momentum": momentum}
    tmp = f"{path}.tmp.{os.getpid()}"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path: str) -> dict:
    """Reads a checkpoint file; refuses anything else in one sentence."""
    if not os.path.isfile(path):
        raise CheckpointError(
            f"no checkpoint at {path} to resume from (a run writes one every checkpointMinutes, and when it stops or ends)"
        )
    try:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # torch without weights_only
            state = torch.load(path, map_location="cpu")
    except Exception as e:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(e).__name__}: {e})") from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this package")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path} is checkpoint version {state.get('version')!r}; this package reads version {VERSION}")
    return {**json.loads(state["meta"]), "params": state["params"], "momentum": state["momentum"]}


def check_matches(state: dict, config: dict, path: str) -> None:
    """A checkpoint resumes only the experiment it was saved from."""
    if state["config"] != config:
        raise CheckpointError(f"{path} is a checkpoint of another experiment ({state['link']}), not of this link")


@torch.no_grad()
def restore(trainer, state: dict) -> Tuple[dict, float]:
    """Puts the trainer where the checkpoint was taken; returns the run document and the training time so far."""
    net, opt = trainer.net, trainer.opt
    params: Dict[str, torch.Tensor] = state["params"]
    momentum: Dict[str, torch.Tensor] = state["momentum"]
    for s in net.specs:
        t = net.plan_tensor(s["name"])
        saved = params.get(s["name"])
        if saved is None or tuple(saved.shape) != tuple(t.shape):
            raise CheckpointError(f"the checkpoint does not fit this network at {s['name']}")
        t.copy_(saved.to(t.device))
        if s["trainable"] and s["name"] in momentum:
            opt.state[t]["momentum_buffer"] = momentum[s["name"]].to(t.device).clone()
    trainer.sampler.restore(state["sampler"])
    trainer.iter = int(state["iter"])
    trainer.lr_changes = [(int(i), float(lr)) for i, lr in state["lrChanges"]]
    return state["run"], float(state["elapsedMs"])
