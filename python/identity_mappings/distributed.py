"""
Processes: one, or several under torchrun (DistributedDataParallel).

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK (and MASTER_ADDR/PORT) in each process it starts; a plain `python3 -m
identity_mappings` has none of them and trains alone. Several processes join one process group: NCCL when they
train on CUDA (each on the device of its LOCAL_RANK), gloo on the CPU.

What the group computes is what one process computes (train.py): each process takes a contiguous slice of batch/P
images of the same global batch; DDP averages the gradients; the reported loss and the test error are reduced over
the processes; BN's running averages are folded so that they are those of one process running the micro-batches in
order (fold_running_stats); at the end every replica is compared with rank 0's (check_replicas).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch
import torch.distributed as dist


class LaunchError(Exception):
    """A process group that cannot be set up as asked; the message says why in one sentence."""


@dataclass
class Processes:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: Optional[str] = None  # "nccl" | "gloo" with several processes, None alone

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def torchrun_env() -> tuple:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) outside torchrun."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError as e:
        raise LaunchError(f"RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers ({e})") from e
    if world < 1 or not 0 <= rank < world:
        raise LaunchError(f"RANK={rank} is not a rank of WORLD_SIZE={world}")
    return rank, world, local


def start(device_choice: str) -> Processes:
    """This process's place in the group and its device; joins the process group when there are several.

    device_choice: "auto" (CUDA when torch sees a device, else CPU), "cpu" or "cuda"."""
    rank, world, local = torchrun_env()
    cuda = torch.cuda.is_available()
    if device_choice == "cuda" and not cuda:
        raise LaunchError("--device cuda, but torch sees no CUDA device (torch.cuda.is_available() is False)")
    use_cuda = cuda and device_choice != "cpu"
    if use_cuda:
        count = torch.cuda.device_count()
        if local >= count:
            raise LaunchError(
                f"process {rank} has LOCAL_RANK {local} but torch sees {count} CUDA device{'s' if count != 1 else ''}: "
                "start at most one process per GPU (--nproc_per_node)"
            )
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    p = Processes(rank, world, local, device)
    if world > 1:
        p.backend = "nccl" if use_cuda else "gloo"
        dist.init_process_group(p.backend, rank=rank, world_size=world)
    return p


def stop(p: Processes) -> None:
    if p.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(p: Processes, values: Sequence[float]) -> List[float]:
    """Each value summed over the processes (float64), one collective for the lot; alone: the values."""
    if not p.distributed:
        return [float(v) for v in values]
    t = torch.tensor(values, dtype=torch.float64, device=p.device)
    dist.all_reduce(t)
    return t.tolist()


def gather_strings(p: Processes, text: str) -> List[str]:
    """Every process's `text`, in rank order (e.g. their device names)."""
    if not p.distributed:
        return [text]
    out: List[Optional[str]] = [None] * p.world_size
    dist.all_gather_object(out, text)
    return [str(s) for s in out]


def bn_layers(net: torch.nn.Module) -> List[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def running_stats(net: torch.nn.Module) -> List[torch.Tensor]:
    """BN's running averages (mean and variance of every layer), the tensors themselves."""
    out = []
    for m in bn_layers(net):
        out += [m.running_mean, m.running_var]
    return out


@torch.no_grad()
def fold_running_stats(p: Processes, net: torch.nn.Module, before: List[torch.Tensor], micro_batches: int) -> None:
    """BN's running averages as if one process had run every process's micro-batches in rank order.

    With momentum μ (0.1), a micro-batch with statistic m moves r to (1 − μ)·r + μ·m. Process p runs its k micro-batches
    from the common r and ends at r_p = (1 − μ)^k·r + d_p. One process running all P·k in order ends at
        r' = (1 − μ)^{Pk}·r + Σ_p (1 − μ)^{k(P − 1 − p)}·d_p,
    which one all-reduce of each process's weighted d_p gives to every process alike (so the replicas stay equal).
    Per-process BN statistics are the paper's "128 on 2 GPUs (64 each)"; this only keeps the evaluation's running
    averages independent of how the batch was split."""
    if not p.distributed:
        return
    layers = bn_layers(net)
    decays = []
    for m in layers:
        keep = 1.0 - m.momentum
        decays += [keep**micro_batches] * 2
    now = running_stats(net)
    weighted = []
    for r0, r, d in zip(before, now, decays):
        w = d ** (p.world_size - 1 - p.rank)
        weighted.append(((r - d * r0) * w).reshape(-1))
    flat = torch.cat(weighted)
    dist.all_reduce(flat)
    offset = 0
    for r0, r, d in zip(before, now, decays):
        n = r.numel()
        r.copy_(d**p.world_size * r0 + flat[offset : offset + n].view_as(r))
        offset += n


def state_vector(net: torch.nn.Module, opt: torch.optim.Optimizer) -> torch.Tensor:
    """Every parameter, buffer (BN's running averages) and momentum buffer, flattened in a fixed order (float32)."""
    parts = [t.detach().reshape(-1).float() for t in net.parameters()]
    parts += [b.detach().reshape(-1).float() for b in net.buffers() if b.is_floating_point()]
    for group in opt.param_groups:
        for q in group["params"]:
            buf = opt.state.get(q, {}).get("momentum_buffer")
            if buf is not None:
                parts.append(buf.detach().reshape(-1).float())
    return torch.cat(parts)


def digest(v: torch.Tensor) -> str:
    """SHA-256 of a state vector's bytes: equal digests, bit-identical replicas."""
    return hashlib.sha256(v.cpu().numpy().tobytes()).hexdigest()


def check_replicas(p: Processes, net: torch.nn.Module, opt: torch.optim.Optimizer) -> dict:
    """Compares every process's parameters, BN running averages and momentum buffers with rank 0's.

    Rank 0 broadcasts its state; each process measures max|x − x_0| and the maximum over the processes is reduced.
    DDP applies the same averaged gradient on every process, and the running averages are folded alike, so the
    replicas should be bit for bit equal: `identical` says whether they are."""
    v = state_vector(net, opt)
    out = {"processes": p.world_size, "values": v.numel(), "sha256": digest(v)}
    if not p.distributed:
        return {**out, "identical": True, "maxAbsDiff": 0.0, "checked": False}
    ref = v.clone()
    dist.broadcast(ref, 0)
    diff = (v - ref).abs().max().reshape(1).double()
    dist.all_reduce(diff, op=dist.ReduceOp.MAX)
    worst = float(diff.item())
    return {**out, "identical": worst == 0.0, "maxAbsDiff": worst, "checked": True}


def from_rank0(p: Processes, compute):
    """compute() on rank 0 only, its result (or the one-sentence error it raised) handed to every process: a link
    is resolved once, not once per process. Returns (result, None) or (None, error message)."""
    if p.main:
        try:
            answer = [(compute(), None)]
        except Exception as e:  # the caller says which errors are expected; all are handed on
            answer = [(None, str(e))]
    else:
        answer = [None]
    if p.distributed:
        dist.broadcast_object_list(answer, 0)
    return answer[0]
