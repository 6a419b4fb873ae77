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

WORDS_PER_USE = 4
"""64-bit seed words per use: a 128-bit PCG64 state and a 128-bit increment."""


class Streams:
    """Random streams per batch: a channel's contacts on one day.

    A change in one channel or on one day leaves every other batch's luck alone, for common
    random numbers.
    """

    def __init__(self, seq: np.random.SeedSequence) -> None:
        self._entropy, self._key = seq.entropy, tuple(seq.spawn_key)
        self._gens = [np.random.Generator(np.random.PCG64(0)) for _ in range(BLOCKS)]

    def batch(self, channel: int, day: int, lone: bool = False) -> list[np.random.Generator]:
        """Generators for one batch, one per use; valid until the next call.

        Each use's PCG64 starts from its own state and increment, four words of the batch's
        SeedSequence, so the uses are independent streams. One state advanced by multiples
        of 2**96 per use would be cheaper, but such streams' draws correlate.
        """
        key = (*self._key, 7919, int(lone), channel, day)
        seq = np.random.SeedSequence(self._entropy, spawn_key=key)
        words = seq.generate_state(WORDS_PER_USE * BLOCKS, np.uint64).tolist()
        for use, gen in enumerate(self._gens):
            s_hi, s_lo, i_hi, i_lo = words[WORDS_PER_USE * use : WORDS_PER_USE * (use + 1)]
            gen.bit_generator.state = {
                "bit_generator": "PCG64",
                "state": {"state": s_hi << 64 | s_lo, "inc": i_hi << 64 | i_lo | 1},
                "has_uint32": 0,
                "uinteger": 0,
            }
        return self._gens


def child(seq: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The `index`-th child of `seq`, as `seq.spawn` would first give it, without spawning.

    The caller's SeedSequence is left as it was, so it seeds the same run every time.
    """
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, index))
