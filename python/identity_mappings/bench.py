"""
Training speed of the PyTorch executor on one experiment link, for `npm run bench -- --torch`.

    python3 -m identity_mappings.bench (--link '<link>' | --plan FILE|-) [--iters K] [--threads N]
                                       [--device auto|cpu|cuda]

Builds the network from the link's plan (--link resolves it with `npm run --silent summary -- '<link>' --plan`;
--plan reads that output from a file, or from stdin with `-`), and trains K iterations (default 6, at least 3) of
the real training step (the Trainer: sampler, normalisation, crop/flip augmentation, micro-batches, SGD) at the
link's batch on random CIFAR-shaped records held in memory, so no dataset is needed. Prints ONE line of JSON on
stdout:

    {"imagesPerSec": steady state, from the third iteration on (iterations 3…K),
     "firstStepSeconds": the first iteration (allocation, kernel selection / cuDNN autotuning included),
     "stepSeconds": [every iteration's seconds], "iters": K, "batch": …, "microBatch": …, "params": trainable,
     "threads": torch's CPU threads, "torch": version, "device": "cpu" | "cuda:0", "backend": "pytorch-cpu" | …,
     "adapter": the device in words, "link": the canonical link}

Errors go to stderr with exit status 2 (bad arguments, link or plan).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from .data import Dataset, RecordSet
from .distributed import Processes
from .plan import PlanError, load_plan, check_plan
from .train import Trainer, device_name


def random_dataset(classes: int, records: int, seed: int) -> Dataset:
    """CIFAR-shaped records (a label byte, 3072 pixel bytes) of random pixels and labels."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(records, 3073), dtype=np.uint8)
    rows[:, 0] = rng.integers(0, classes, size=records)
    rs = RecordSet(rows, label_offset=0, pixel_offset=1)
    return Dataset("random", classes, [str(c) for c in range(classes)], (125.3, 123.0, 113.9), (63.0, 62.1, 66.7), rs, rs, "random records in memory")


def measure(plan: dict, iters: int, device: torch.device) -> dict:
    c = plan["config"]
    trainer = Trainer(plan, random_dataset(plan["classes"], max(4 * c["batch"], 512), c["seed"]), Processes(device=device))
    seconds = []
    for _ in range(iters):
        t0 = time.perf_counter()
        trainer.step()  # reads its loss back, so the step has finished on the device
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - t0)
    steady = seconds[2:]
    return {
        "imagesPerSec": c["batch"] * len(steady) / sum(steady),
        "firstStepSeconds": seconds[0],
        "stepSeconds": seconds,
        "iters": iters,
        "batch": c["batch"],
        "microBatch": trainer.micro,
        "params": trainer.trainable_params(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": str(device),
        "backend": f"pytorch-{device.type}",
        "adapter": device_name(device),
        "link": plan["link"],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m identity_mappings.bench", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--link", help="the experiment link or query string")
    src.add_argument("--plan", help="a plan file from npm run --silent summary -- '<link>' --plan ('-': stdin)")
    p.add_argument("--iters", type=int, default=6, help="iterations to time (≥ 3; the first two are warm-up)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = p.parse_args(argv)
    try:
        if args.iters < 3:
            raise PlanError("--iters needs at least 3: the steady state starts at the third iteration")
        if args.threads is not None:
            if args.threads < 1:
                raise PlanError("--threads needs a whole number ≥ 1")
            torch.set_num_threads(args.threads)
        if args.device == "cuda" and not torch.cuda.is_available():
            raise PlanError("--device cuda, but torch sees no CUDA device")
        if args.plan == "-":
            plan = check_plan(json.load(sys.stdin), "the plan on stdin")
        else:
            plan = load_plan(args.link, args.plan)
    except (PlanError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    device = torch.device("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")
    print(json.dumps(measure(plan, args.iters, device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
