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

import base64
import json
import math
import os
import platform
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import CheckpointError
from .checkpoint import restore as restore_checkpoint
from .checkpoint import save as save_checkpoint
from .data import Dataset, EpochSampler, augment, augmentation_draws, normalize
from .distributed import Processes, all_sum, check_replicas, fold_running_stats, gather_strings, running_stats
from .model import ResNet
from .plan import PlanError, micro_batch
from .rng import derive_seed
from .schedule import lr_at
from .signal import signal_profile
from .weights import export_weights, load_plan_state

DIVERGED_LOSS = 100.0  # as the page (src/worker/run.ts): the paper's "fail"
POINT_EVERY_S = 0.25  # training points at most 4 a second, as the page sends them
SIGNAL_BATCH = 32  # the signal profile's batch: the first 32 test images (src/train/signalBatch.ts)
GALLERY_SIZE = 256  # the error view's gallery: the first 256 evaluated test images (src/experiment/record.ts)
DROPOUT_SALT = 2  # derive_seed(seed, DROPOUT_SALT, iteration, rank): the dropout masks' stream (1: the crops')


class Trainer:
    """One network (one replica of it, under torchrun), its optimizer and data order: `step()` trains one iteration,
    `evaluate()` measures test error."""

    def __init__(self, plan: dict, data: Dataset, procs: Processes, sync_bn: bool = False):
        c = self.config = plan["config"]
        self.procs = procs
        device, rank, world_size = procs.device, procs.rank, procs.world_size
        if data.classes != plan["classes"]:
            raise PlanError(f"the data has {data.classes} classes, the plan's network {plan['classes']}")
        if c["batch"] % world_size != 0:
            raise PlanError(f"batch={c['batch']} does not split evenly over {world_size} processes")
        self.data, self.device, self.rank, self.world_size = data, device, rank, world_size
        self.per_process = c["batch"] // world_size
        self.micro = micro_batch(c, self.per_process)
        self.sync_bn = sync_bn and world_size > 1
        self.dropout = any(u["shortcut"] == "dropout" and u["shortcutParams"].get("dropRate", 0) > 0 for u in plan["units"])
        self.net = ResNet(plan)
        self.net.initialize(c["seed"])
        if self.sync_bn:
            if device.type != "cuda":
                raise PlanError("--sync-bn needs CUDA: torch's SyncBatchNorm runs on GPUs only")
            # BN statistics over the micro-batch of every process (P·m images) instead of each process's own.
            self.net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.net)
        self.net.to(device).train()
        # What the forward passes go through: the network itself, or its DistributedDataParallel wrapper, which
        # averages the gradients over the processes. Buffers are not broadcast from rank 0 at each forward: BN's
        # running averages are folded after each step instead (distributed.fold_running_stats), as one process.
        self.module: torch.nn.Module = self.net
        if world_size > 1:
            self.module = torch.nn.parallel.DistributedDataParallel(
                self.net, device_ids=[device.index] if device.type == "cuda" else None, broadcast_buffers=False
            )
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
        """One SGD iteration on the next batch; returns this process's training loss (the mean over its
        micro-batches: the mean over processes is the batch's)."""
        x, y = self.batch()
        if self.dropout:
            # Dropout masks from a stream of this iteration (and process), so a resumed run draws what it would have.
            torch.manual_seed(derive_seed(self.config["seed"], DROPOUT_SALT, self.iter, self.rank))
        fold = self.world_size > 1 and not self.sync_bn
        before = [t.clone() for t in running_stats(self.net)] if fold else []
        loss, _ = sgd_step(self.module, self.opt, x, y, self.micro, self.lr)
        if fold:
            fold_running_stats(self.procs, self.net, before, self.per_process // self.micro)
        self.iter += 1
        return loss

    def evaluated(self) -> int:
        """How many test images an evaluation covers: the test set, or its first testSubset."""
        c, test = self.config, self.data.test
        return min(test.count, c["testSubset"]) if c["testSubset"] else test.count

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Test error (%) and mean loss on the test set (or its first testSubset images), in inference mode, and what
        the network gets wrong (src/train/errors.ts): the confusion matrix over those images, and the predicted class
        and its softmax probability for the gallery (the first GALLERY_SIZE of them). With several processes each
        evaluates every P-th chunk and the counts are summed."""
        c, test = self.config, self.data.test
        total = self.evaluated()
        size = min(500, max(c["batch"], 100))
        k = self.data.classes
        shown = min(GALLERY_SIZE, total)
        self.net.eval()
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        confusion = torch.zeros(k * k, device=self.device, dtype=torch.float64)
        predicted = torch.zeros(shown, device=self.device, dtype=torch.float64)
        confidence = torch.zeros(shown, device=self.device, dtype=torch.float64)
        for chunk, start in enumerate(range(0, total, size)):
            if chunk % self.world_size != self.rank:
                continue
            end = min(start + size, total)
            pixels, labels = test.gather(range(start, end))
            y = torch.from_numpy(labels).to(self.device)
            logits = self.net(normalize(pixels, self.data.mean, self.data.std, self.device))
            prob, pred = F.softmax(logits.float(), 1).max(1)
            confusion += torch.bincount(y * k + pred, minlength=k * k).double()
            loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
            if start < shown:
                n = min(end, shown) - start
                predicted[start : start + n] = pred[:n].double()
                confidence[start : start + n] = prob[:n].double()
        self.net.train()
        if self.world_size > 1:
            packed = torch.cat([loss_sum.reshape(1), confusion, predicted, confidence])
            torch.distributed.all_reduce(packed)
            loss_sum, confusion = packed[0], packed[1 : 1 + k * k]
            predicted, confidence = packed[1 + k * k : 1 + k * k + shown], packed[1 + k * k + shown :]
        matrix = [int(round(v)) for v in confusion.tolist()]
        wrong = total - sum(matrix[i * k + i] for i in range(k))
        return {
            "testError": 100 * wrong / total,
            "testLoss": float(loss_sum) / total,
            "images": total,
            "errors": {
                "confusion": matrix,
                "predicted": [int(round(v)) for v in predicted.tolist()],
                "confidence": [round(v, 3) for v in confidence.tolist()],
            },
        }

    def gallery(self) -> dict:
        """The images the errors' predictions are of (run JSON `gallery`, as npm run experiment writes it): the first
        GALLERY_SIZE evaluated test images with their labels, and the class counts of all evaluated images."""
        total = self.evaluated()
        _, labels = self.data.test.gather(range(total))
        pixels, shown = self.data.test.gather(range(min(GALLERY_SIZE, total)))
        return {
            "classNames": self.data.class_names,
            "classCounts": np.bincount(labels, minlength=self.data.classes).tolist(),
            "labels": shown.tolist(),
            "pixels": base64.b64encode(np.ascontiguousarray(pixels).tobytes()).decode("ascii"),
        }

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


@dataclass
class RunOptions:
    """How a run is carried out, beside its plan: what the command line adds."""

    fallbacks: Sequence[dict] = ()
    lr_changes: Sequence[Tuple[int, float]] = ()
    stop_requested: Callable[[], bool] = lambda: False
    stop_at: Optional[int] = None  # stop (as on SIGTERM) once this many iterations are done
    progress: bool = True
    sync_bn: bool = False
    checkpoint: Optional[str] = None  # where checkpoints go; None: none
    checkpoint_minutes: Optional[float] = None  # None: the link's checkpointMinutes; 0: only at the end and at a stop
    resume: Optional[dict] = None  # a checkpoint (checkpoint.load) to continue from
    init_weights: Optional[Tuple[dict, dict]] = None  # (plan-layout arrays by plan name, their model.json)
    weights: Optional[str] = None  # model.json to export the trained weights to (tfjs format); None: none


def adapter_text(names: List[str]) -> str:
    """The devices of all processes in words: "NVIDIA A100-SXM4-80GB", "2 × NVIDIA A100-SXM4-80GB", …"""
    if len(set(names)) == 1:
        return names[0] if len(names) == 1 else f"{len(names)} processes × {names[0]}"
    return ", ".join(names)


def run(plan: dict, data: Dataset, out: str, procs: Processes, options: RunOptions = RunOptions()) -> dict:
    """Trains the plan's experiment and writes its run JSON to `out` (rank 0; at every evaluation and at the end).

    Returns the run; its status is finished, stopped (stop_requested, on any process), diverged or failed (with a
    message). Every process takes part in every step, evaluation and check, and they decide together when to stop,
    checkpoint or give up (one all-reduce per iteration), so none waits for another that has left."""
    c = plan["config"]
    o = options
    started = time.time()
    main = procs.main
    doc = {
        "id": f"pytorch-{int(started * 1000):x}-{os.getpid()}",
        "link": plan["link"],
        "config": c,
        "status": "starting",
        "message": None,
        "backend": f"pytorch-{procs.device.type}",
        "adapter": None,
        "fallbacks": list(o.fallbacks),
        "params": None,
        "finalTestError": None,
        "bestTestError": None,
        "history": {"train": [], "evals": [], "lrChanges": [], "errors": []},
        "signal": [],
        "startedAt": int(started * 1000),
        "trainImages": data.train.count,
        "testImages": min(data.test.count, c["testSubset"]) if c["testSubset"] else data.test.count,
        "device": str(procs.device),
        "torch": torch.__version__,
        "processes": procs.world_size,
        "processGroup": procs.backend,
        "perProcessBatch": c["batch"] // procs.world_size if c["batch"] % procs.world_size == 0 else None,
        "microBatch": None,
        "syncBN": bool(o.sync_bn and procs.world_size > 1),
        "replicas": None,
        "checkpoint": None,
        "weights": None,
        "resumed": [],
        "initWeights": None,
        "dataSource": data.source,
    }
    bar = Progress(c["iters"], c["batch"], o.progress and main)
    history = doc["history"]
    trainer: Optional[Trainer] = None
    t0 = time.perf_counter()
    minutes = c["checkpointMinutes"] if o.checkpoint_minutes is None else o.checkpoint_minutes

    def elapsed_ms() -> float:
        return 1000 * (time.perf_counter() - t0)

    def finish(status: str, message: Optional[str] = None) -> dict:
        errors = [e["testError"] for e in history["evals"]]
        doc.update(
            status=status,
            message=message,
            finalTestError=errors[-1] if errors else None,
            bestTestError=min(errors) if errors else None,
        )
        if main:
            if trainer is not None and status in ("finished", "stopped"):
                if o.weights:
                    doc["weights"] = os.path.basename(o.weights)
                    export_weights(o.weights, trainer, doc)
                if o.checkpoint:  # the last checkpoint holds the final run JSON, for a run started again
                    doc["checkpoint"] = {"path": os.path.basename(o.checkpoint), "iter": trainer.iter}
                    save_checkpoint(o.checkpoint, trainer, doc, elapsed_ms())
            write_json(out, doc)
        bar.show(doc, trainer.iter if trainer else 0, force=True)
        bar.end()
        return doc

    try:
        doc["adapter"] = adapter_text(gather_strings(procs, device_name(procs.device)))
        trainer = Trainer(plan, data, procs, o.sync_bn)
        doc.update(params=trainer.trainable_params(), microBatch=trainer.micro)
        pending = sorted(o.lr_changes)
        if o.resume is not None:
            saved, before = restore_checkpoint(trainer, o.resume)
            for key in ("id", "startedAt", "history", "signal", "resumed", "initWeights", "gallery"):
                if key in saved:
                    doc[key] = saved[key]
            history = doc["history"]
            history.setdefault("errors", [])
            t0 -= before / 1000
            if trainer.iter >= c["iters"]:  # nothing left to train: the finished run as it was
                if main:
                    write_json(out, saved)
                return saved
            doc["resumed"].append({"iter": trainer.iter, "processes": procs.world_size, "at": int(time.time() * 1000)})
            known = set(trainer.lr_changes)
            pending = [ch for ch in pending if ch not in known and ch[0] >= trainer.iter]
            trainer.lr_changes = sorted(known | set(pending))
        else:
            trainer.lr_changes = list(pending)
            if o.init_weights is not None:
                arrays, model_json = o.init_weights
                load_plan_state(trainer.net, arrays)
                meta = model_json.get("userDefinedMetadata") or {}
                doc["initWeights"] = {"link": meta.get("link"), "iteration": meta.get("iteration")}
        doc["status"] = "running"
        window = {"loss": 0.0, "n": 0, "images": 0, "since": time.perf_counter()}
        last_save = time.perf_counter()

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
                    "elapsedMs": elapsed_ms(),
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
                    "elapsedMs": elapsed_ms(),
                }
            )
            history["errors"].append({"iter": trainer.iter, **e["errors"]})
            if "gallery" not in doc:
                doc["gallery"] = trainer.gallery()
            doc["signal"].append({"iter": trainer.iter, "profile": trainer.signal()})
            if main:
                write_json(out, doc)  # a run killed later keeps its curves up to here
            window["since"] = time.perf_counter()  # images/s counts training time only

        def check_replicas_or_fail() -> Optional[str]:
            doc["replicas"] = check_replicas(procs, trainer.net, trainer.opt)
            r = doc["replicas"]
            if r["identical"]:
                return None
            return f"the {r['processes']} replicas differ after training (max |x − x_rank0| = {r['maxAbsDiff']:.3g})"

        if o.resume is None:
            doc["signal"].append({"iter": 0, "profile": trainer.signal()})
        while trainer.iter < c["iters"]:
            while pending and pending[0][0] <= trainer.iter:
                it, lr = pending.pop(0)
                history["lrChanges"].append({"iter": it, "lr": lr})
            local = trainer.step()
            due = main and o.checkpoint is not None and minutes > 0 and time.perf_counter() - last_save >= 60 * minutes
            # One all-reduce per iteration: the batch's loss, and whether any process was asked to stop or rank 0
            # wants a checkpoint, so that every process acts on the same iteration.
            stop = o.stop_requested() or (o.stop_at is not None and trainer.iter >= o.stop_at)
            total, stops, saves = all_sum(procs, [local, float(stop), float(due)])
            loss = total / procs.world_size
            window["loss"] += loss
            window["n"] += 1
            window["images"] += c["batch"]
            if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                flush()
                return finish("diverged", f"training loss reached {js_number(loss)} at iteration {trainer.iter}")
            if time.perf_counter() - window["since"] >= POINT_EVERY_S:
                flush()
            if trainer.iter % c["evalEvery"] == 0 or trainer.iter == c["iters"]:
                flush()
                evaluate()
                if trainer.iter < c["iters"]:
                    bar.show(doc, trainer.iter, force=True)
            else:
                bar.show(doc, trainer.iter)
            if stops > 0 and trainer.iter < c["iters"]:
                flush()
                problem = check_replicas_or_fail()
                return finish("failed", problem) if problem else finish("stopped", f"stopped at iteration {trainer.iter}")
            if saves > 0:
                if main:
                    doc["checkpoint"] = {"path": os.path.basename(o.checkpoint), "iter": trainer.iter}
                    save_checkpoint(o.checkpoint, trainer, doc, elapsed_ms())
                last_save = time.perf_counter()
        flush()
        problem = check_replicas_or_fail()
        return finish("failed", problem) if problem else finish("finished")
    except Exception as e:  # any fault ends the run as failed, saying why, with its curves so far
        return finish("failed", f"{type(e).__name__}: {e}" if not isinstance(e, (PlanError, CheckpointError)) else str(e))
