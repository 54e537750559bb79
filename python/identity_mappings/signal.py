"""
Signal propagation at a glance (Sec. 3), as src/model/signal.ts measures it in the page: on one batch, the L2 norm
of every residual unit's output x_l and of ∂E/∂x_l (E the batch-mean cross-entropy), in one forward and one backward
pass. With identity shortcuts, Eqn. (5) keeps ∂E/∂x_l from vanishing; with h(x) = λx, Eqn. (8) scales it by Π λ.

BN runs in training mode (batch statistics), as at a training step; its running averages are put back afterwards,
so the network is left exactly as it was. Dropout masks come from torch's generator (the page seeds its own).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .model import ResNet


def signal_profile(model: ResNet, images: torch.Tensor, labels: torch.Tensor) -> dict:
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    was_training = model.training
    model.train()
    try:
        with torch.enable_grad():
            outputs: list = []
            loss = F.cross_entropy(model(images, unit_outputs=outputs), labels)
            grads = torch.autograd.grad(loss, outputs)
        forward = [float(x.detach().norm()) for x in outputs]
        backward = [float(g.norm()) for g in grads]
    finally:
        with torch.no_grad():
            for k, v in model.named_buffers():
                v.copy_(buffers[k])
        model.train(was_training)
    units = [
        {"unit": i + 1, "stage": u.stage + 1, "forward": forward[i], "backward": backward[i]}
        for i, u in enumerate(model.units)
    ]
    return {"units": units, "backwardRatio": backward[0] / backward[-1], "images": images.shape[0]}
