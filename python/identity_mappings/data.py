"""
The protocol's data, as the page has it (src/data): the shards and manifest.json that `npm run data` writes, each
shard checked against its SHA-256; the manifest's per-channel normalisation; the epoch order of EpochSampler
(src/data/pipeline.ts) and the per-iteration crop/flip draws of drawAugmentation, from the same seeded generator
(rng.py), so a seed gives the page's order and augmentation (a vitest compares them).

Augmentation (the paper, NOTES.md "Training protocol"): pad 4 zero pixels after normalisation, take a random 32×32
crop, flip horizontally with probability 0.5; the test set is only normalised.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np
import torch

from .rng import Rng, derive_seed, shuffle

IMAGE_SIZE = 32
CHANNELS = 3
PIXEL_BYTES = IMAGE_SIZE * IMAGE_SIZE * CHANNELS
PAD = 4  # zero padding on each side before the random crop


class DataError(Exception):
    """A dataset folder that cannot be trained on; the message says why in one sentence."""


@dataclass
class RecordSet:
    """Records in CIFAR's binary layout: one row of `record_bytes` per image (label byte(s), then planar RGB)."""

    records: np.ndarray  # uint8 [count, record_bytes]
    label_offset: int
    pixel_offset: int

    @property
    def count(self) -> int:
        return self.records.shape[0]

    def gather(self, indices: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
        """Planar pixel bytes [n, 3, 32, 32] and labels [n] of the given records (gatherBatch in pipeline.ts)."""
        rows = self.records[np.asarray(indices, dtype=np.int64)]
        pixels = rows[:, self.pixel_offset : self.pixel_offset + PIXEL_BYTES].reshape(-1, CHANNELS, IMAGE_SIZE, IMAGE_SIZE)
        return pixels, rows[:, self.label_offset].astype(np.int64)


@dataclass
class Dataset:
    name: str
    classes: int
    class_names: List[str]
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    train: RecordSet
    test: RecordSet
    source: str


def _read_split(folder: str, manifest: dict, split: str) -> RecordSet:
    layout = manifest["layout"]
    chunks = []
    for shard in manifest["splits"][split]:
        path = os.path.join(folder, shard["file"])
        if not os.path.isfile(path):
            raise DataError(f"{path} is missing: the folder does not hold what its manifest lists; run npm run data again")
        with open(path, "rb") as f:
            raw = f.read()
        if hashlib.sha256(raw).hexdigest() != shard["sha256"]:
            raise DataError(
                f"shard {shard['file']} in {folder} is corrupt (its SHA-256 differs from the manifest's); run npm run data again"
            )
        if len(raw) != shard["records"] * layout["recordBytes"]:
            raise DataError(f"shard {shard['file']} holds {len(raw)} bytes, not {shard['records']} records")
        chunks.append(np.frombuffer(raw, dtype=np.uint8).reshape(-1, layout["recordBytes"]))
    if not chunks:
        raise DataError(f"the manifest in {folder} lists no {split} shards")
    return RecordSet(np.concatenate(chunks), layout["labelOffset"], layout["pixelOffset"])


def load_dataset(folder: str, expected: str) -> Dataset:
    """Reads a folder written by `npm run data` (manifest.json and its shards), checking every shard's SHA-256."""
    if expected == "synthetic":
        raise DataError(
            "the embedded synthetic demo set exists only in the page; the PyTorch executor trains on CIFAR shards "
            "(npm run data -- cifar10 or cifar100, then dataset=cifar10 or cifar100 in the link)"
        )
    path = os.path.join(folder, "manifest.json")
    if not os.path.isfile(path):
        raise DataError(
            f"no manifest.json in {folder}: convert the dataset first (npm run data -- {expected}) or point --data at a folder it wrote"
        )
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is not a readable manifest ({e})") from e
    if manifest.get("version") != 1:
        raise DataError(f"{path} has manifest version {manifest.get('version')!r}; this package reads version 1")
    if manifest.get("dataset") != expected:
        raise DataError(f"{folder} holds {manifest.get('dataset')}, but the link trains on {expected}")
    norm = manifest["normalization"]
    return Dataset(
        name=manifest["dataset"],
        classes=manifest["layout"]["classes"],
        class_names=list(manifest.get("classNames") or [str(i) for i in range(manifest["layout"]["classes"])]),
        mean=tuple(norm["mean"]),
        std=tuple(norm["std"]),
        train=_read_split(folder, manifest, "train"),
        test=_read_split(folder, manifest, "test"),
        source=os.path.abspath(folder),
    )


class EpochSampler:
    """
    Training record indices, epoch by epoch, as EpochSampler in pipeline.ts: each epoch is a fresh permutation of the
    first min(available, limit) records, seeded by (seed, epoch number); a batch may run on into the next epoch.
    """

    def __init__(self, seed: int, limit: int = 0):
        self.seed = seed
        self.limit = limit
        self.order: List[int] = []
        self.pos = 0
        self.completed = 0

    @property
    def epoch(self) -> float:
        """Completed epochs plus the fraction of the current one."""
        return self.completed + (self.pos / len(self.order) if self.order else 0)

    def state(self) -> dict:
        """Where the sampler is, as the page's SamplerState: completed epochs, position, permutation length."""
        return {"completed": self.completed, "pos": self.pos, "size": len(self.order)}

    def restore(self, s: dict) -> None:
        """Continues from a state(): the permutation is regenerated from the seed and the epoch number."""
        completed, pos, size = (s.get(k) for k in ("completed", "pos", "size"))
        ok = all(isinstance(n, int) and n >= 0 for n in (completed, pos, size)) and pos <= size
        if not ok or (size == 0 and (pos > 0 or completed > 0)):
            raise DataError(f"invalid sampler state {s!r}")
        self.completed = completed
        self.order = shuffle(list(range(size)), Rng(derive_seed(self.seed, completed))) if size > 0 else []
        self.pos = pos

    def next_batch(self, available: int, batch: int) -> List[int]:
        out: List[int] = []
        while len(out) < batch:
            if self.pos == len(self.order):
                self._start_epoch(available)
            take = min(batch - len(out), len(self.order) - self.pos)
            out.extend(self.order[self.pos : self.pos + take])
            self.pos += take
        return out

    def _start_epoch(self, available: int) -> None:
        if self.order:
            self.completed += 1
        size = min(available, self.limit) if self.limit > 0 else available
        if size < 1:
            raise DataError(f"no training records available ({available})")
        self.order = shuffle(list(range(size)), Rng(derive_seed(self.seed, self.completed)))
        self.pos = 0


def draw_augmentation(n: int, rng: Rng) -> List[Tuple[int, int, bool]]:
    """Each image's crop offset (oy, ox) on the padded image and whether to mirror it, drawn in that order."""
    draws = []
    for _ in range(n):
        oy = rng.int(2 * PAD + 1)
        ox = rng.int(2 * PAD + 1)
        draws.append((oy, ox, rng.next() < 0.5))
    return draws


def augmentation_draws(seed: int, it: int, n: int) -> List[Tuple[int, int, bool]]:
    """The draws of training iteration `it`: a stream of its own (deriveSeed(seed, 1, it)), as trainer.ts."""
    return draw_augmentation(n, Rng(derive_seed(seed, 1, it)))


def normalize(pixels: np.ndarray, mean: Sequence[float], std: Sequence[float], device: torch.device) -> torch.Tensor:
    """Planar bytes [n, 3, 32, 32] → float32 NCHW, (value − mean[c]) / std[c] on the 0–255 scale (float32, as tfjs)."""
    x = torch.from_numpy(np.ascontiguousarray(pixels)).to(device=device, dtype=torch.float32)
    m = torch.tensor(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    return (x - m) / s


def augment(images: torch.Tensor, draws: Sequence[Tuple[int, int, bool]]) -> torch.Tensor:
    """Pads each image with PAD zeros, crops 32×32 at its (oy, ox) and mirrors it where drawn: one gather."""
    n, c, h, w = images.shape
    if len(draws) != n:
        raise ValueError(f"{len(draws)} augmentation draws for {n} images")
    padded = torch.nn.functional.pad(images, (PAD, PAD, PAD, PAD))
    dev = images.device
    oy = torch.tensor([d[0] for d in draws], device=dev)
    ox = torch.tensor([d[1] for d in draws], device=dev)
    flip = torch.tensor([d[2] for d in draws], device=dev)
    rows = oy[:, None] + torch.arange(h, device=dev)[None, :]  # [n, h]
    cols = torch.arange(w, device=dev)[None, :].expand(n, w)
    cols = ox[:, None] + torch.where(flip[:, None], w - 1 - cols, cols)  # [n, w], right to left when flipped
    batch = torch.arange(n, device=dev)[:, None, None, None]
    chan = torch.arange(c, device=dev)[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]
