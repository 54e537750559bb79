"""
python3 -m identity_mappings [train] (--link '<link>' | --plan FILE) --out run.json [--data DIR]
        [--device auto|cpu|cuda] [--threads N] [--lr-change ITER:LR ...] [--sync-bn]
        [--checkpoint FILE] [--checkpoint-minutes M] [--resume | --auto-resume] [--stop-at ITER]
        [--init-weights MODEL_JSON]
        [--weights MODEL_JSON | --no-weights] [--quiet]

torchrun --standalone --nproc_per_node=N --redirects 1 --tee 1 -m identity_mappings ...  (the same, on N processes)

Trains one experiment link with PyTorch and writes the run JSON of `npm run experiment` (config, link, status,
backend "pytorch-cpu"/"pytorch-cuda" with the devices' names, params, history, final/best test error, signal), a
checkpoint beside it (every checkpointMinutes, at a stop and at the end) and the trained weights in the page's
tfjs format. Under torchrun the processes train one run with DistributedDataParallel (NCCL on CUDA, gloo on the CPU).
Run it from the repository root with PYTHONPATH=python (or from python/). Exit status: 0 when the run finished,
1 when it ended otherwise (stopped, diverged, failed; the JSON is written all the same) or the data cannot be read,
2 for a bad command line, link, checkpoint or weights file (nothing is run). SIGINT/SIGTERM stop the run after the
current iteration, write a checkpoint and its JSON as `stopped`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .plan import PlanError, load_plan, micro_batch

USAGE_EPILOG = (
    "example: PYTHONPATH=python python3 -m identity_mappings train --link 'depth=20&iters=30' --out run.json; "
    "on N processes: PYTHONPATH=python torchrun --standalone --nproc_per_node=N --redirects 1 --tee 1 "
    "-m identity_mappings --link '...' --out run.json"
)


def lr_change(text: str):
    try:
        it, lr = text.split(":")
        it, lr = int(it), float(lr)
        if it < 0 or not lr > 0:
            raise ValueError
        return it, lr
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ITER:LR with ITER ≥ 0 and LR > 0, got {text!r}")


def minutes(text: str) -> float:
    try:
        m = float(text)
        if not m >= 0:
            raise ValueError
        return m
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected minutes ≥ 0 (0: only at a stop and at the end), got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 -m identity_mappings [train]",
        description="Train an experiment link of the Identity Mappings playground with PyTorch (one process, or "
        "several under torchrun with DistributedDataParallel).",
        epilog=USAGE_EPILOG,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--link", help="the experiment: a query string or a page link (resolved by npm run summary)")
    src.add_argument("--plan", help="a plan saved with: npm run --silent summary -- '<link>' --plan > FILE")
    p.add_argument("--out", required=True, help="where the run JSON goes")
    p.add_argument(
        "--data",
        help="shards folder of npm run data (default: data/<dataset> of this checkout, or $PLAYGROUND_DATA_DIR/<dataset>)",
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CUDA when available")
    p.add_argument("--threads", type=int, help="CPU threads for torch, per process (default: torch's choice)")
    p.add_argument(
        "--lr-change",
        type=lr_change,
        action="append",
        default=[],
        metavar="ITER:LR",
        help="from iteration ITER on, train at LR (later milestones still divide it), as the page's hand changes",
    )
    p.add_argument(
        "--sync-bn",
        action="store_true",
        help="BN statistics over every process's micro-batch (SyncBatchNorm, CUDA only); default: per process, "
        "the paper's '128 on 2 GPUs (64 each)'",
    )
    p.add_argument("--checkpoint", help="checkpoint file (default: beside --out, run.json → run.ckpt.pt)")
    p.add_argument(
        "--checkpoint-minutes",
        type=minutes,
        metavar="M",
        help="minutes between checkpoints (default: the link's checkpointMinutes; 0: only at a stop and the end)",
    )
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from the checkpoint (an error if there is none)")
    again.add_argument(
        "--auto-resume",
        action="store_true",
        help="continue from the checkpoint when there is one, else start (for jobs a scheduler may requeue)",
    )
    p.add_argument(
        "--stop-at",
        type=int,
        metavar="ITER",
        help="stop after iteration ITER as SIGTERM would (checkpoint, JSON `stopped`): split a run over fixed-length jobs",
    )
    p.add_argument("--init-weights", metavar="MODEL_JSON", help="start from these weights (the page's Weights export)")
    w = p.add_mutually_exclusive_group()
    w.add_argument("--weights", metavar="MODEL_JSON", help="where the trained weights go (default: run.json → run-model.json)")
    w.add_argument("--no-weights", action="store_true", help="do not export the trained weights")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    return p


def stem(path: str) -> str:
    return path[:-5] if path.endswith(".json") else path


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        argv = argv[1:]
    args = parser().parse_args(argv)

    import torch  # after argument parsing, so --help answers at once

    from . import checkpoint as ckpt
    from . import distributed
    from .data import DataError, load_dataset
    from .model import ResNet
    from .plan import default_data_dir
    from .train import RunOptions, run
    from .weights import read_init_weights

    if args.threads is not None:
        if args.threads < 1:
            print("error: --threads needs a whole number ≥ 1", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    try:
        procs = distributed.start(args.device)
    except distributed.LaunchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    say = (lambda m: print(f"error: {m}", file=sys.stderr)) if procs.main else (lambda m: None)  # once, not per process
    try:
        if args.sync_bn and procs.device.type != "cuda":
            say("--sync-bn needs CUDA: torch's SyncBatchNorm runs on GPUs only (per-process BN, the default, runs anywhere)")
            return 2
        checkpoint_path = args.checkpoint or ckpt.default_path(args.out)

        def prepare():
            plan = load_plan(args.link, args.plan)
            micro_batch(plan["config"], plan["config"]["batch"] // max(1, procs.world_size))
            if plan["config"]["batch"] % procs.world_size:
                raise PlanError(f"batch={plan['config']['batch']} does not split evenly over {procs.world_size} processes")
            return plan

        plan, problem = distributed.from_rank0(procs, prepare)
        if problem:
            say(problem)
            return 2
        state = None
        init = None
        if args.resume or (args.auto_resume and os.path.isfile(checkpoint_path)):
            try:
                state = ckpt.load(checkpoint_path)
                ckpt.check_matches(state, plan["config"], checkpoint_path)
            except ckpt.CheckpointError as e:
                say(str(e))
                return 2
        elif args.init_weights:
            try:
                init = read_init_weights(args.init_weights, ResNet(plan))
            except ValueError as e:
                say(str(e))
                return 2
        fallbacks = []
        if args.device == "auto" and not torch.cuda.is_available():
            fallbacks.append({"backend": "pytorch-cuda", "error": "no CUDA device (torch.cuda.is_available() is False)"})

        config = plan["config"]
        folder = args.data or default_data_dir(config["dataset"])
        try:
            data = load_dataset(folder, config["dataset"])
        except DataError as e:
            say(str(e))
            return 1

        stop = {"requested": False}

        def request_stop(signum, frame):
            stop["requested"] = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        options = RunOptions(
            fallbacks=fallbacks,
            lr_changes=args.lr_change,
            stop_requested=lambda: stop["requested"],
            stop_at=args.stop_at,
            progress=not args.quiet,
            sync_bn=args.sync_bn,
            checkpoint=checkpoint_path,
            checkpoint_minutes=args.checkpoint_minutes,
            resume=state,
            init_weights=init,
            weights=None if args.no_weights else (args.weights or f"{stem(args.out)}-model.json"),
        )
        r = run(plan, data, args.out, procs, options)
        if procs.main:
            final = "—" if r["finalTestError"] is None else f"{r['finalTestError']:.2f}%"
            best = "—" if r["bestTestError"] is None else f"{r['bestTestError']:.2f}%"
            replicas = r.get("replicas") or {}
            same = (
                f"; {replicas['processes']} replicas {'identical' if replicas['identical'] else 'DIFFER'}"
                if replicas.get("checked")
                else ""
            )
            print(
                f"{r['status']} on {r['backend']} ({r['adapter']}): final test error {final}, best {best}{same} → {args.out}",
                flush=True,
            )
        if r["status"] != "finished":
            say(f"run {r['status']}{': ' + r['message'] if r['message'] else ''}")
            return 1
        return 0
    finally:
        distributed.stop(procs)


if __name__ == "__main__":
    sys.exit(main())
