"""
One small combine rule per shortcut kind of Fig. 2, mirroring src/model/shortcuts.ts: given the unit, its input x
(after any hoisted pre-activation), the shortcut signal h(x) (x downsampled where the shape changes) and the
residual F(x), return the sum that goes into f. Everything else about a unit is the plan's data.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def identity(u, x, h, f):
    # Fig. 2a: x_{l+1} = f(h(x) + F(x)), h the identity (or option A / projection where the shape changes).
    return h + f


def scale(u, x, h, f):
    # Fig. 2b: λ·h(x) + s·F(x). λ = 0 is a plain network; λ = s = 0.5 is the paper's "frozen gating".
    return h * u.params["shortcutScale"] + f * u.params["residualScale"]


def exclusive_gate(u, x, h, f):
    # Fig. 2c: (1 − g(x))·h(x) + g(x)·F(x), g(x) = σ(W_g x + b_g), as in Highway networks.
    g = torch.sigmoid(u.gate(x))
    return (1 - g) * h + g * f


def shortcut_gate(u, x, h, f):
    # Fig. 2d: (1 − g(x))·h(x) + F(x): only the shortcut is gated.
    return (1 - torch.sigmoid(u.gate(x))) * h + f


def conv(u, x, h, f):
    # Fig. 2e: BN(W_s x) + F(x): a 1×1 conv on every shortcut (it also does the downsampling).
    return u.conv_shortcut(x) + f


def dropout(u, x, h, f):
    # Fig. 2f: dropout(h(x)) + F(x), training only. Inverted dropout (kept values scaled by 1/(1−p)), as Caffe's and
    # Torch's dropout layers do, so evaluation uses the shortcut unchanged. A test may fix the mask (u.dropout_mask:
    # the multiplier, 0 or 1/(1−p) per value) to compare with tfjs.
    p = u.params["dropRate"]
    if not u.training or p == 0:
        return h + f
    if u.dropout_mask is not None:
        return h * u.dropout_mask + f
    return F.dropout(h, p, training=True) + f


SHORTCUTS = {
    "identity": identity,
    "scale": scale,
    "exclusive-gate": exclusive_gate,
    "shortcut-gate": shortcut_gate,
    "conv": conv,
    "dropout": dropout,
}
