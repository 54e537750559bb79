"""
python3 -m identity_mappings [train] (--link '<link>' | --plan FILE) --out run.json [--data DIR]
                             [--device auto|cpu|cuda] [--threads N] [--lr-change ITER:LR ...] [--quiet]

Trains one experiment link with PyTorch and writes the run JSON of `npm run experiment` (config, link, status,
backend "pytorch-cpu"/"pytorch-cuda" with the device's name, params, history, final/best test error, signal).
Run it from the repository root with PYTHONPATH=python (or from python/). Exit status: 0 when the run finished,
1 when it ended otherwise (stopped, diverged, failed; the JSON is written all the same) or the data cannot be read,
2 for a bad command line or link (nothing is run). SIGINT/SIGTERM stop the run after the current iteration and
write its JSON as `stopped`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .plan import PlanError, load_plan, micro_batch

USAGE_EPILOG = "example: PYTHONPATH=python python3 -m identity_mappings train --link 'depth=20&iters=30' --out run.json"


def lr_change(text: str):
    try:
        it, lr = text.split(":")
        it, lr = int(it), float(lr)
        if it < 0 or not lr > 0:
            raise ValueError
        return it, lr
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ITER:LR with ITER ≥ 0 and LR > 0, got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 -m identity_mappings [train]",
        description="Train an experiment link of the Identity Mappings playground with PyTorch.",
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
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument(
        "--lr-change",
        type=lr_change,
        action="append",
        default=[],
        metavar="ITER:LR",
        help="from iteration ITER on, train at LR (later milestones still divide it), as the page's hand changes",
    )
    p.add_argument("--quiet", action="store_true", help="no progress line")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        argv = argv[1:]
    args = parser().parse_args(argv)

    import torch  # after argument parsing, so --help answers at once

    from .data import DataError, load_dataset
    from .plan import REPO
    from .train import run

    try:
        plan = load_plan(args.link, args.plan)
        micro_batch(plan["config"], plan["config"]["batch"])  # one process: it takes the whole batch
    except PlanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.threads is not None:
        if args.threads < 1:
            print("error: --threads needs a whole number ≥ 1", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    fallbacks = []
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda, but torch sees no CUDA device (torch.cuda.is_available() is False)", file=sys.stderr)
        return 2
    if args.device == "auto" and not torch.cuda.is_available():
        fallbacks.append({"backend": "pytorch-cuda", "error": "no CUDA device (torch.cuda.is_available() is False)"})
    device = torch.device("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")

    config = plan["config"]
    data_dir = os.environ.get("PLAYGROUND_DATA_DIR") or os.path.join(REPO, "data")  # where npm run data writes
    folder = args.data or os.path.join(data_dir, config["dataset"])
    try:
        data = load_dataset(folder, config["dataset"])
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    stop = {"requested": False}

    def request_stop(signum, frame):
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    r = run(
        plan,
        data,
        args.out,
        device,
        fallbacks=fallbacks,
        lr_changes=args.lr_change,
        stop_requested=lambda: stop["requested"],
        progress=not args.quiet,
    )
    final = "—" if r["finalTestError"] is None else f"{r['finalTestError']:.2f}%"
    best = "—" if r["bestTestError"] is None else f"{r['bestTestError']:.2f}%"
    print(f"{r['status']} on {r['backend']} ({r['adapter']}): final test error {final}, best {best} → {args.out}")
    if r["status"] != "finished":
        print(f"error: run {r['status']}{': ' + r['message'] if r['message'] else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
