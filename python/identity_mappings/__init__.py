"""
identity_mappings: the Identity Mappings playground's experiments on PyTorch.

The network is built from the plan the page computes (`npm run --silent summary -- '<link>' --plan`, plan version 1),
never from a second copy of the unit registry; the protocol (data order, augmentation, schedule, SGD, BatchNorm,
evaluation) is the page's. Modules:
    plan       reading a plan (from a link via npm, or a saved file)
    model      the nn.Module of a plan (ResNet, Unit), shortcuts: one combine rule per shortcut kind
    weights    tfjs weights format and plan ↔ torch layouts
    data       shards of `npm run data`, the page's epoch order and crop/flip draws (rng: its generator)
    schedule   the learning-rate schedule
    train      the training loop and the run JSON;  __main__: the CLI
    parity     the harness the parity tests drive;  bench: images/s
"""

__all__ = ["PLAN_VERSION"]

from .plan import PLAN_VERSION
