"""
The PyTorch half of the parity tests (scripts/torch-parity.test.ts writes the inputs, runs this, and compares
with tfjs). Tensors go both ways in tfjs's weights format (weights.py).

    python3 -m identity_mappings.parity model DIR
        DIR/plan.json             the plan document (npm run summary --plan)
        DIR/model.json            initial weights by plan name, plan layout (+ weights.bin)
        DIR/inputs.json           per step s: images/<s> [n, H, W, 3] (NHWC, normalised), labels/<s> [n];
                                  mask/<s>/<j>/<u>: the dropout multiplier of unit u in micro-batch j (NHWC);
                                  userDefinedMetadata: {steps, lrChanges: [[iter, lr], …]}
      writes DIR/out.json (+ out.bin): logits and loss of step 0 and every gradient of step 0 (grad/<name>), the
      learning rate and loss of every step (lr/<s>, loss/<s>), and every plan parameter after the steps
      (final/<name>, BN running averages included), and in its metadata the smallest |input| any ReLU saw
      (closestReluInput). Micro-batches: the config's microBatch.

    python3 -m identity_mappings.parity protocol DIR
        DIR/data/                 a shards folder (npm run data's layout)
        DIR/request.json          {"config": {...}, "iters": K}
      writes DIR/protocol.json: each iteration's record indices, epoch, crop/flip draws and learning rate, and
      DIR/batches.json (+ .bin): batch/<it>, the normalised, augmented images (NHWC), and labels/<it>.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch

from .data import augment, augmentation_draws, EpochSampler, load_dataset, normalize
from .model import ResNet
from .plan import micro_batch, read_plan
from .schedule import lr_at
from .train import make_sgd, sgd_step
from .weights import load_plan_state, plan_state, read_tfjs_weights, write_tfjs_weights


def nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).contiguous()


def nhwc(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().permute(0, 2, 3, 1).numpy())


def model_parity(folder: str) -> None:
    torch.use_deterministic_algorithms(True)
    plan = read_plan(os.path.join(folder, "plan.json"))
    config = plan["config"]
    net = ResNet(plan)
    load_plan_state(net, read_tfjs_weights(os.path.join(folder, "model.json"))[0])
    net.train()
    inputs, doc = read_tfjs_weights(os.path.join(folder, "inputs.json"))
    meta = doc["userDefinedMetadata"]
    changes = [tuple(c) for c in meta["lrChanges"]]
    opt = make_sgd(net, config)
    # ReLU's kink: an input within rounding error (~1e-6 here) of 0 may be switched on in one correct implementation
    # and off in another, which moves a gradient by a whole unit's contribution. The test draws batches until every
    # ReLU input of the three steps keeps a margin from 0 (it reads this minimum).
    closest = [float("inf")]

    def watch(module, inputs):
        closest[0] = min(closest[0], float(inputs[0].detach().abs().min()))

    for m in net.modules():
        if isinstance(m, torch.nn.ReLU):
            m.register_forward_pre_hook(watch)
    out = []
    for s in range(meta["steps"]):
        x = nchw(inputs[f"images/{s}"])
        y = torch.from_numpy(inputs[f"labels/{s}"].astype(np.int64))
        micro = micro_batch(config, x.shape[0])

        def set_masks(j: int) -> None:
            for u, unit in enumerate(net.units):
                mask = inputs.get(f"mask/{s}/{j}/{u}")
                unit.dropout_mask = None if mask is None else nchw(mask)

        grads = {}
        lr = lr_at(config, s, changes)
        loss, logits = sgd_step(
            net, opt, x, y, micro, lr, before_micro=set_masks, before_update=lambda: grads.update(plan_state(net, grads=True))
        )
        if s == 0:
            out.append(("logits", logits.numpy()))
            out.append(("loss", np.array([loss], dtype=np.float32)))
            out.extend((f"grad/{k}", v) for k, v in grads.items())
        out.append((f"lr/{s}", np.array([lr], dtype=np.float32)))
        out.append((f"loss/{s}", np.array([loss], dtype=np.float32)))
    out.extend((f"final/{k}", v) for k, v in plan_state(net).items())
    meta = {"torch": torch.__version__, "closestReluInput": closest[0]}
    write_tfjs_weights(os.path.join(folder, "out.json"), out, meta, bin_name="out.bin")


def protocol_parity(folder: str) -> None:
    with open(os.path.join(folder, "request.json")) as f:
        request = json.load(f)
    config = request["config"]
    data = load_dataset(os.path.join(folder, "data"), config["dataset"])
    sampler = EpochSampler(config["seed"], config["trainSubset"])
    steps, batches = [], []
    for it in range(request["iters"]):
        indices = sampler.next_batch(data.train.count, config["batch"])
        draws = augmentation_draws(config["seed"], it, config["batch"])
        pixels, labels = data.train.gather(indices)
        x = augment(normalize(pixels, data.mean, data.std, torch.device("cpu")), draws)
        steps.append(
            {
                "indices": indices,
                "epoch": sampler.epoch,
                "draws": [[oy, ox, flip] for oy, ox, flip in draws],
                "lr": lr_at(config, it, [tuple(c) for c in request.get("lrChanges", [])]),
            }
        )
        batches.append((f"batch/{it}", nhwc(x)))
        batches.append((f"labels/{it}", labels.astype(np.float32)))
    with open(os.path.join(folder, "protocol.json"), "w") as f:
        json.dump({"steps": steps, "trainRecords": data.train.count, "testRecords": data.test.count}, f)
    write_tfjs_weights(os.path.join(folder, "batches.json"), batches, bin_name="batches.bin")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("model", "protocol"):
        print("usage: python3 -m identity_mappings.parity model|protocol DIR", file=sys.stderr)
        sys.exit(2)
    (model_parity if sys.argv[1] == "model" else protocol_parity)(sys.argv[2])
