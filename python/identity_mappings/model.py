"""
The network of a plan document (`npm run --silent summary -- '<link>' --plan`, src/model/planExport.ts) as a torch
nn.Module. Read Unit.forward and ResNet.forward top to bottom: they are the whole model.

Nothing here knows the paper's ten units. A unit is the plan's op lists (hoisted pre-activation, residual branch,
downsampling, gate, 1×1 conv shortcut, what follows the addition) plus its shortcut kind, whose combine rule is one
small function in shortcuts.py. The layers are torch's own (Conv2d, BatchNorm2d, Linear), so cuDNN, DDP and
SyncBatchNorm work on them unchanged.

How it matches the page's tfjs network (src/model/network.ts):
- Layout NCHW here, NHWC in the plan: conv weights [k, k, cin, cout] ↔ [cout, cin, k, k], the fc weight
  [cin, classes] ↔ [classes, cin] (weights.py converts; `plan_names` maps every plan parameter to its state_dict key).
- Convolutions pad (k − 1)/2 on every side, as Torch (never TensorFlow's one-sided 'same' at stride 2).
- BatchNorm as Torch (NOTES.md): ε and momentum from the plan (1e-5, 0.1), running variance unbiased (torch's own rule).
- Option A downsampling: every other pixel (the 1×1 average pooling with stride 2 of the official code), then zero
  channels appended.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .shortcuts import SHORTCUTS

# Where each plan parameter lives on a torch layer: (layer, attribute).
Slots = Dict[str, Tuple[nn.Module, str]]


def build_ops(ops: List[dict], bn: dict, slots: Slots) -> nn.Sequential:
    """A plan op list (conv / bn / relu) as torch layers, recording where each plan parameter went."""
    layers: List[nn.Module] = []
    for op in ops:
        if op["op"] == "conv":
            k = op["k"]
            layer = nn.Conv2d(op["cin"], op["cout"], k, stride=op["stride"], padding=(k - 1) // 2, bias=False)
            slots[op["w"]] = (layer, "weight")
        elif op["op"] == "bn":
            layer = nn.BatchNorm2d(op["channels"], eps=bn["epsilon"], momentum=bn["momentum"])
            for plan_key, attr in (("gamma", "weight"), ("beta", "bias"), ("mean", "running_mean"), ("variance", "running_var")):
                slots[op[plan_key]] = (layer, attr)
        elif op["op"] == "relu":
            layer = nn.ReLU()  # not in place: x also feeds the shortcut
        else:
            raise ValueError(f"unknown op {op['op']!r} in the plan")
        layers.append(layer)
    return nn.Sequential(*layers)


class ZeroPadShortcut(nn.Module):
    """Option A (the original CIFAR ResNets): keep every other pixel, append zero channels; no parameters."""

    def __init__(self, stride: int, extra_channels: int):
        super().__init__()
        self.stride = stride
        self.extra = extra_channels

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra)) if self.extra else x

    def extra_repr(self):
        return f"stride={self.stride}, zero channels={self.extra}"


class Unit(nn.Module):
    """One residual unit: x_{l+1} = f(combine(h(x_l), F(x_l))), Eqns. (1)–(2) with the unit's shortcut rule."""

    def __init__(self, u: dict, bn: dict, slots: Slots):
        super().__init__()
        self.name = u["name"]
        self.stage = u["stage"]  # 0-based
        self.kind = u["shortcut"]
        self.params = u["shortcutParams"]  # λ, s, dropout rate, gate bias: what the shortcut rule reads
        self.hoisted = build_ops(u["hoisted"], bn, slots)
        self.branch = build_ops(u["branch"], bn, slots)
        d = u["downsample"]
        if d["kind"] == "none":
            self.downsample = nn.Identity()
        elif d["kind"] == "zero-pad":
            self.downsample = ZeroPadShortcut(d["stride"], d["extraChannels"])
        elif d["kind"] == "projection":
            self.downsample = build_ops(d["ops"], bn, slots)  # 1×1 strided conv (+ BN in post-activation nets)
        else:
            raise ValueError(f"unknown downsampling {d['kind']!r} in the plan")
        self.gate = None
        if "gate" in u:  # g(x) = σ(W_g x + b_g): a 1×1 conv whose bias is b_g
            c = u["gate"]["conv"]
            self.gate = nn.Conv2d(c["cin"], c["cout"], 1, stride=c["stride"], bias=True)
            slots[c["w"]] = (self.gate, "weight")
            slots[u["gate"]["bias"]] = (self.gate, "bias")
        self.conv_shortcut = build_ops(u["convShortcut"], bn, slots) if "convShortcut" in u else None
        self.after_add = build_ops(u["afterAdd"], bn, slots)
        self.dropout_mask: Optional[torch.Tensor] = None
        if self.kind not in SHORTCUTS:
            raise ValueError(f"unknown shortcut kind {self.kind!r} in the plan")

    def extra_repr(self):
        return f"{self.name}: shortcut {self.kind} {self.params or ''}".rstrip()

    def forward(self, x):
        x = self.hoisted(x)  # pre-activation before the split, first unit of a stage (Appendix)
        f = self.branch(x)  # F(x)
        h = self.downsample(x)  # h(x)
        return self.after_add(SHORTCUTS[self.kind](self, x, h, f))  # f: ReLU, BN-ReLU or the identity (Fig. 4)


class ResNet(nn.Module):
    """The CIFAR network of a plan: conv1, three stages of residual units, global average pooling, fc."""

    def __init__(self, plan: dict):
        super().__init__()
        bn = plan["conventions"]["batchNorm"]
        slots: Slots = {}
        self.stem = build_ops(plan["stem"], bn, slots)
        self.units = nn.ModuleList(Unit(u, bn, slots) for u in plan["units"])
        self.head = build_ops(plan["head"], bn, slots)
        fc = plan["fc"]
        self.fc = nn.Linear(fc["cin"], fc["classes"])
        slots[fc["w"]], slots[fc["b"]] = (self.fc, "weight"), (self.fc, "bias")

        self.specs = plan["params"]
        self.spec_by_name = {s["name"]: s for s in self.specs}
        self.classes = plan["classes"]
        qualified = {id(m): name for name, m in self.named_modules()}
        # Plan parameter name (e.g. "s2.u0.conv1.w") → state_dict key (e.g. "units.3.branch.3.weight").
        self.plan_names: Dict[str, str] = {}
        for spec in self.specs:
            if spec["name"] not in slots:
                raise ValueError(f"the plan lists parameter {spec['name']} that no op uses")
            layer, attr = slots[spec["name"]]
            self.plan_names[spec["name"]] = f"{qualified[id(layer)]}.{attr}"
        if len(slots) != len(self.specs):
            raise ValueError("the plan's ops use parameters its parameter list does not declare")

    def forward(self, images, unit_outputs: Optional[list] = None):
        x = self.stem(images)  # conv1 (3 → 16) and what follows it
        for unit in self.units:
            x = unit(x)
            if unit_outputs is not None:  # x_l, for the signal-propagation profile (Eqns. 5, 8)
                unit_outputs.append(x)
        x = self.head(x)  # the extra BN-ReLU after the last addition (pre-activation)
        x = x.mean(dim=(2, 3))  # global average pooling, 8×8
        return self.fc(x)

    def plan_tensor(self, name: str) -> torch.Tensor:
        """The parameter or buffer that holds plan parameter `name` (torch layout)."""
        key = self.plan_names[name]
        return self.get_parameter(key) if self.spec_by_name[name]["trainable"] else self.get_buffer(key)

    @torch.no_grad()
    def initialize(self, seed: int) -> None:
        """Every parameter as its plan initialiser says (fb.resnet.torch), drawn from torch's generator seeded by `seed`.

        Same distributions as the page, not the same values: tfjs and torch have different random generators."""
        g = torch.Generator().manual_seed(seed)
        for spec in self.specs:
            t = self.plan_tensor(spec["name"])
            init = spec["init"]
            if init["kind"] == "normal":
                value = torch.empty(t.shape).normal_(0, init["std"], generator=g)
            elif init["kind"] == "uniform":
                value = torch.empty(t.shape).uniform_(-init["limit"], init["limit"], generator=g)
            else:
                value = torch.full(t.shape, float(init["value"]))
            t.copy_(value)
