"""Random streams: one per batch of contacts and per use, for common random numbers."""

from __future__ import annotations

import numpy as np

from hourglass.stages import FUNNEL

RUN_STREAMS = ("after_sale", "referrals")
TIMES, MARKET, UNIFORMS, PATIENCE_BLOCK, QUICK_BLOCK, STAY_BLOCK = range(6)
BLOCKS = STAY_BLOCK + len(FUNNEL)
"""Random streams of a batch: one per use, so each use's draws keep their order."""

PASS, REASON, QUICK, STAY, PATIENCE, QUICK_TIME = range(6)
FIELDS = 6
"""A contact's luck, stage after stage: pass, loss-reason and qualification uniforms, time in
stage, patience, and the time a fast "no" takes."""


class Streams:
    """Random streams per batch (a channel's contacts on one day): a change in one channel
    or on one day leaves every other batch's luck alone, for common random numbers."""

    def __init__(self, seq: np.random.SeedSequence) -> None:
        self._entropy, self._key = seq.entropy, tuple(seq.spawn_key)
        self._gens = [np.random.Generator(np.random.PCG64(0)) for _ in range(BLOCKS)]

    def batch(self, channel: int, day: int, lone: bool = False) -> list[np.random.Generator]:
        """Generators for one batch, one per use; valid until the next call."""
        key = (*self._key, 7919, int(lone), channel, day)
        state = np.random.PCG64(np.random.SeedSequence(self._entropy, spawn_key=key)).state
        for block, gen in enumerate(self._gens):
            gen.bit_generator.state = state
            gen.bit_generator.advance(block << 96)
        return self._gens


def child(seq: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The `index`-th child of `seq`, as `seq.spawn` would first give it, without spawning:
    the caller's SeedSequence is left as it was, so it seeds the same run every time."""
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, index))
