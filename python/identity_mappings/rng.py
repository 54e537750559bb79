"""
The data pipeline's seeded randomness, ported bit for bit from src/data/rng.ts: mulberry32 for the streams,
MurmurHash3's finaliser to derive independent seeds, Fisher–Yates shuffles. With the same seed the PyTorch executor
visits the training records in the page's order and draws the page's crops and flips (a vitest checks it).

JavaScript does this arithmetic on 32-bit integers (Math.imul, >>>, |); here every value is kept as its unsigned
32-bit pattern (masked with 0xFFFFFFFF), which gives the same bits.
"""

from __future__ import annotations

from typing import List

M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    """Math.imul: the low 32 bits of the product."""
    return (a * b) & M32


class Rng:
    """mulberry32: uniform floats in [0, 1) and integers in 0..n-1, as createRng(seed) in rng.ts."""

    def __init__(self, seed: int):
        self.state = seed & M32

    def next(self) -> float:
        self.state = (self.state + 0x6D2B79F5) & M32
        s = self.state
        t = _imul(s ^ (s >> 15), 1 | s)
        t = ((t + _imul(t ^ (t >> 7), 61 | t)) & M32) ^ t
        return ((t ^ (t >> 14)) & M32) / 4294967296

    def int(self, n: int) -> int:
        if n < 1 or n > 4294967296:
            raise ValueError(f"int(n) needs 1 <= n <= 2^32, got {n}")
        return int(self.next() * n)  # floor, as Math.floor(next() * n) for these non-negative values


def _fmix32(h: int) -> int:
    h &= M32
    h ^= h >> 16
    h = _imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = _imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def derive_seed(seed: int, *salts: int) -> int:
    """deriveSeed(seed, ...salts): a seed for an independent stream, e.g. derive_seed(run_seed, epoch)."""
    h = _fmix32((seed & M32) ^ 0x9E3779B9)
    for salt in salts:
        h = _fmix32(((h ^ _fmix32((salt & M32) + 0x7F4A7C15)) + 0x9E3779B9) & M32)
    return h


def shuffle(items: List[int], rng: Rng) -> List[int]:
    """Fisher–Yates in place, drawing as shuffle() in rng.ts does; returns the same list."""
    for i in range(len(items) - 1, 0, -1):
        j = rng.int(i + 1)
        items[i], items[j] = items[j], items[i]
    return items
