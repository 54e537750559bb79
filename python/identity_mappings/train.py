"""
The page's training protocol on PyTorch (src/train/trainer.ts, src/worker/run.ts), writing the run JSON of
`npm run experiment`.

Per iteration: the sampler picks the batch's records (the page's order for the same seed), the images are
normalised and augmented with the page's crop/flip draws, the batch is split into micro-batches (each a forward in
training mode with its own BN statistics, its running averages updated once per micro-batch, in order), the
gradient is the mean of the micro-batches' gradients, and Torch's SGD takes one step at the schedule's rate:
    d = g + wd·w;   v = μ·v + d;   w = w − lr·(Nesterov ? d + μ·v : v)
on every trainable parameter, BN's γ and β included (fb.resnet.torch's optim.sgd; torch.optim.SGD is that rule).
Every `evalEvery` iterations and at the end: test error and mean loss on the test set (or its first `testSubset`
images) in inference mode, and the signal profile on the first 32 test images.

Processes: the loop takes a rank and a world size. With P processes each takes a contiguous slice of batch/P images of
the same global batch (the sampler and the draws are the same on every rank) and splits it into micro-batches of
`microBatch` images (`auto`: the whole slice). With one process (the CLI today) rank 0 takes the whole batch.

What is not bit-identical to the page: initial weights (same distributions, torch's generator, not tfjs's), dropout
masks (torch's generator), and float arithmetic (cuDNN/oneDNN kernels sum in their own order). The data order and the
crops and flips are the page's.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
import math
import os
import platform
import sys
import time
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from .data import Dataset, EpochSampler, augment, augmentation_draws, normalize
from .model import ResNet
from .plan import PlanError, micro_batch
from .schedule import lr_at
from .signal import signal_profile

DIVERGED_LOSS = 100.0  # as the page (src/worker/run.ts): the paper's "fail"
POINT_EVERY_S = 0.25  # training points at most 4 a second, as the page sends them
SIGNAL_BATCH = 32  # the signal profile's batch: the first 32 test images (src/train/signalBatch.ts)


class Trainer:
    """One network, its optimizer and data order: `step()` trains one iteration, `evaluate()` measures test error."""

    def __init__(self, plan: dict, data: Dataset, device: torch.device, rank: int = 0, world_size: int = 1):
        c = self.config = plan["config"]
        if data.classes != plan["classes"]:
            raise PlanError(f"the data has {data.classes} classes, the plan's network {plan['classes']}")
        if c["batch"] % world_size != 0:
            raise PlanError(f"batch={c['batch']} does not split evenly over {world_size} processes")
        self.data, self.device, self.rank, self.world_size = data, device, rank, world_size
        self.per_process = c["batch"] // world_size
        self.micro = micro_batch(c, self.per_process)
        torch.manual_seed(c["seed"])  # dropout masks
        self.net = ResNet(plan)
        self.net.initialize(c["seed"])
        self.net.to(device).train()
        # What the forward passes go through: the network itself, or a DistributedDataParallel wrapper of it.
        self.module: torch.nn.Module = self.net
        self.opt = make_sgd(self.net, c)
        self.sampler = EpochSampler(c["seed"], c["trainSubset"])
        self.lr_changes: List[Tuple[int, float]] = []
        self.iter = 0

    @property
    def lr(self) -> float:
        """The learning rate of the next iteration."""
        return lr_at(self.config, self.iter, self.lr_changes)

    @property
    def epoch(self) -> float:
        return self.sampler.epoch

    def batch(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """This process's slice of the next training batch, normalised and augmented, and its labels."""
        c = self.config
        indices = self.sampler.next_batch(self.data.train.count, c["batch"])
        lo, hi = self.rank * self.per_process, (self.rank + 1) * self.per_process
        pixels, labels = self.data.train.gather(indices[lo:hi])
        x = normalize(pixels, self.data.mean, self.data.std, self.device)
        if c["augment"]:
            # The whole batch's draws from this iteration's stream, so every rank's slice gets the page's crops.
            x = augment(x, augmentation_draws(c["seed"], self.iter, c["batch"])[lo:hi])
        return x, torch.from_numpy(labels).to(self.device)

    def step(self) -> float:
        """One SGD iteration on the next batch; returns its training loss."""
        x, y = self.batch()
        loss, _ = sgd_step(self.module, self.opt, x, y, self.micro, self.lr)
        self.iter += 1
        return loss

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Test error (%) and mean loss on the test set (or its first testSubset images), in inference mode."""
        c, test = self.config, self.data.test
        total = min(test.count, c["testSubset"]) if c["testSubset"] else test.count
        size = min(500, max(c["batch"], 100))
        self.net.eval()
        wrong = torch.zeros((), device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        for start in range(0, total, size):
            pixels, labels = test.gather(range(start, min(start + size, total)))
            y = torch.from_numpy(labels).to(self.device)
            logits = self.net(normalize(pixels, self.data.mean, self.data.std, self.device))
            wrong += (logits.argmax(1) != y).sum()
            loss_sum += F.cross_entropy(logits, y, reduction="sum")
        self.net.train()
        return {"testError": 100 * float(wrong) / total, "testLoss": float(loss_sum) / total, "images": total}

    def signal(self) -> dict:
        n = min(SIGNAL_BATCH, self.data.test.count)
        pixels, labels = self.data.test.gather(range(n))
        images = normalize(pixels, self.data.mean, self.data.std, self.device)
        return signal_profile(self.net, images, torch.from_numpy(labels).to(self.device))

    def trainable_params(self) -> int:
        return sum(p.numel() for p in self.net.parameters() if p.requires_grad)


def make_sgd(net: ResNet, config: dict) -> torch.optim.SGD:
    """Torch's SGD over every trainable plan parameter, in plan order, with the config's momentum and weight decay."""
    return torch.optim.SGD(
        [net.plan_tensor(s["name"]) for s in net.specs if s["trainable"]],
        lr=config["lr"],
        momentum=config["momentum"],
        weight_decay=config["wd"],
        nesterov=bool(config["nesterov"]) and config["momentum"] > 0,  # Nesterov without momentum is plain SGD
    )


def sgd_step(
    module: torch.nn.Module,
    opt: torch.optim.SGD,
    x: torch.Tensor,
    y: torch.Tensor,
    micro: int,
    lr: float,
    before_micro: Optional[Callable[[int], None]] = None,
    before_update: Optional[Callable[[], None]] = None,
) -> Tuple[float, torch.Tensor]:
    """One update from a batch split into micro-batches of `micro` images, in order.

    Each micro-batch j is a forward in training mode with its own BN statistics (the running averages move once per
    micro-batch) and loss_j = its mean cross-entropy; the gradient is g = (1/k) Σ_j ∇loss_j, then one SGD step at
    `lr`. Returns the mean of the loss_j and the logits (detached). The hooks let the parity tests fix dropout masks
    and read the gradient."""
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad(set_to_none=True)
    k = x.shape[0] // micro
    losses, logits = [], []
    no_sync = getattr(module, "no_sync", None)  # under DDP: average across processes once, after the last one
    for j, (xj, yj) in enumerate(zip(x.split(micro), y.split(micro))):
        if before_micro is not None:
            before_micro(j)
        with no_sync() if no_sync is not None and j < k - 1 else nullcontext():
            out = module(xj)
            loss = F.cross_entropy(out, yj)
            (loss / k).backward()
        losses.append(loss.detach())
        logits.append(out.detach())
    if before_update is not None:
        before_update()
    opt.step()
    return float(torch.stack(losses).mean()), torch.cat(logits)


def device_name(device: torch.device) -> str:
    """What the run ran on, in words: the CUDA device's name, or the CPU's model and thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    threads = torch.get_num_threads()
    return f"{model}, {threads} thread{'' if threads == 1 else 's'}"


def js_number(x: float) -> str:
    """A loss as the page words it (JavaScript's String(number)): NaN, Infinity."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def finite_or_string(value):
    """JSON has no Infinity or NaN: non-finite numbers are written as the strings the page's import reads."""
    if isinstance(value, float) and not math.isfinite(value):
        return js_number(value)
    if isinstance(value, dict):
        return {k: finite_or_string(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_string(v) for v in value]
    return value


def write_json(path: str, doc: dict) -> None:
    """Writes atomically: a reader (or a killed run) never sees half a file."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(finite_or_string(doc), f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


class Progress:
    """One line on stdout: redrawn in place on a terminal, else printed every 10 s and at each evaluation."""

    def __init__(self, iters: int, batch: int, enabled: bool):
        self.iters, self.batch, self.enabled = iters, batch, enabled
        self.tty = sys.stdout.isatty()
        self.last = 0.0

    def show(self, run: dict, done: int, force: bool = False) -> None:
        """Redraws the line for `done` completed iterations."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < (0.25 if self.tty else 10):
            return
        self.last = now
        h = run["history"]
        t = h["train"][-1] if h["train"] else None
        e = h["evals"][-1] if h["evals"] else None
        f = done / self.iters
        ips = t["imagesPerSec"] if t else 0
        eta = (self.iters - done) * self.batch / ips if ips > 0 else None
        line = " · ".join(
            [
                f"[{'#' * round(f * 24):<24}] {f * 100:3.0f}%",
                f"iter {done:,}/{self.iters:,}",
                f"loss {t['loss']:.4f}" if t else "loss —",
                f"test err {e['testError']:.2f}%" if e else "test err —",
                f"{ips:.1f} img/s" if t else "— img/s",
                f"ETA {eta:,.0f} s" if eta is not None else "ETA —",
                run["status"],
            ]
        )
        sys.stdout.write(f"\r{line}  " if self.tty else f"{line}\n")
        sys.stdout.flush()

    def end(self) -> None:
        if self.enabled and self.tty:
            sys.stdout.write("\n")


def run(
    plan: dict,
    data: Dataset,
    out: str,
    device: torch.device,
    fallbacks: Sequence[dict] = (),
    lr_changes: Sequence[Tuple[int, float]] = (),
    stop_requested: Callable[[], bool] = lambda: False,
    progress: bool = True,
    rank: int = 0,
    world_size: int = 1,
) -> dict:
    """Trains the plan's experiment and writes its run JSON to `out` (at every evaluation and at the end).

    Returns the run; its status is finished, stopped (stop_requested), diverged or failed (with a message)."""
    c = plan["config"]
    started = time.time()
    doc = {
        "id": f"pytorch-{int(started * 1000):x}-{os.getpid()}",
        "link": plan["link"],
        "config": c,
        "status": "starting",
        "message": None,
        "backend": f"pytorch-{device.type}",
        "adapter": None,
        "fallbacks": list(fallbacks),
        "params": None,
        "finalTestError": None,
        "bestTestError": None,
        "history": {"train": [], "evals": [], "lrChanges": []},
        "signal": [],
        "startedAt": int(started * 1000),
        "trainImages": data.train.count,
        "testImages": min(data.test.count, c["testSubset"]) if c["testSubset"] else data.test.count,
        "device": str(device),
        "torch": torch.__version__,
        "processes": world_size,
        "microBatch": None,
        "dataSource": data.source,
    }
    bar = Progress(c["iters"], c["batch"], progress and rank == 0)
    history = doc["history"]

    done = 0  # completed iterations, for the progress line

    def finish(status: str, message: Optional[str] = None) -> dict:
        errors = [e["testError"] for e in history["evals"]]
        doc.update(
            status=status,
            message=message,
            finalTestError=errors[-1] if errors else None,
            bestTestError=min(errors) if errors else None,
        )
        if rank == 0:
            write_json(out, doc)
        bar.show(doc, done, force=True)
        bar.end()
        return doc

    try:
        doc["adapter"] = device_name(device)
        trainer = Trainer(plan, data, device, rank, world_size)
        trainer.lr_changes = list(lr_changes)
        doc.update(status="running", params=trainer.trainable_params(), microBatch=trainer.micro)
        pending = sorted(lr_changes)
        t0 = time.perf_counter()
        window = {"loss": 0.0, "n": 0, "images": 0, "since": t0}

        def flush() -> None:
            if window["n"] == 0:
                return
            now = time.perf_counter()
            history["train"].append(
                {
                    "iter": trainer.iter,
                    "epoch": trainer.epoch,
                    "loss": window["loss"] / window["n"],
                    "lr": trainer.lr,
                    "imagesPerSec": window["images"] / max(now - window["since"], 1e-3),
                    "elapsedMs": 1000 * (now - t0),
                }
            )
            window.update(loss=0.0, n=0, images=0, since=now)

        def evaluate() -> None:
            e = trainer.evaluate()
            history["evals"].append(
                {
                    "iter": trainer.iter,
                    "epoch": trainer.epoch,
                    "testError": e["testError"],
                    "testLoss": e["testLoss"],
                    "elapsedMs": 1000 * (time.perf_counter() - t0),
                }
            )
            doc["signal"].append({"iter": trainer.iter, "profile": trainer.signal()})
            if rank == 0:
                write_json(out, doc)  # a run killed later keeps its curves up to here
            window["since"] = time.perf_counter()  # images/s counts training time only

        doc["signal"].append({"iter": 0, "profile": trainer.signal()})
        while trainer.iter < c["iters"]:
            if stop_requested():
                flush()
                return finish("stopped", f"stopped at iteration {trainer.iter}")
            while pending and pending[0][0] <= trainer.iter:
                it, lr = pending.pop(0)
                history["lrChanges"].append({"iter": it, "lr": lr})
            loss = trainer.step()
            window["loss"] += loss
            window["n"] += 1
            window["images"] += c["batch"]
            if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                flush()
                return finish("diverged", f"training loss reached {js_number(loss)} at iteration {trainer.iter}")
            if time.perf_counter() - window["since"] >= POINT_EVERY_S:
                flush()
            done = trainer.iter
            if trainer.iter % c["evalEvery"] == 0 or trainer.iter == c["iters"]:
                flush()
                evaluate()
                if trainer.iter < c["iters"]:
                    bar.show(doc, done, force=True)
            else:
                bar.show(doc, done)
        flush()
        return finish("finished")
    except Exception as e:  # any fault ends the run as failed, saying why, with its curves so far
        return finish("failed", f"{type(e).__name__}: {e}" if not isinstance(e, PlanError) else str(e))
