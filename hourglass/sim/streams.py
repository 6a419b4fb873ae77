"""Random streams: one per batch of contacts and per use, for common random numbers."""

from __future__ import annotations

import numpy as np

from hourglass.stages import FUNNEL

RUN_STREAMS = ("after_sale", "referrals")
LADDER_STREAM = 8101
"""The child index of the service ladder's stream: far from the others, so a run without a
ladder draws as before, and one with it draws everything else as before too."""
LEAVING_STREAM, VACATION_STREAM = 8201, 8301
"""The child indices of the sellers' attrition and vacation streams (plus the role's place):
far from the others, so a team that never changes draws nothing from them."""
TIMES, MARKET, UNIFORMS, PATIENCE_BLOCK, QUICK_BLOCK, STAY_BLOCK = range(6)
BLOCKS = STAY_BLOCK + len(FUNNEL)
"""Random streams of a batch: one per use, so each use's draws keep their order."""

PASS, REASON, QUICK, STAY, PATIENCE, QUICK_TIME = range(6)
FIELDS = 6
"""A contact's luck, stage after stage: pass, loss-reason and qualification uniforms, time in
stage, patience, and the time a fast "no" takes."""

KEY_WORDS = 2
"""64-bit words in a Philox key."""


class Streams:
    """Random streams per batch: a channel's contacts on one day.

    A change in one channel or on one day leaves every other batch's luck alone, for common
    random numbers.

    Each use (and lone referrals' each use) has its own Philox key, drawn once from the
    run's seed; a batch's stream is that key's counter range starting at (channel, day).
    Philox is a keyed block cipher on its counter, so distinct keys and disjoint counter
    ranges give independent streams, and setting a batch up costs one counter write per
    use instead of seeding a fresh generator.
    """

    def __init__(self, seq: np.random.SeedSequence) -> None:
        keys = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, 7919))
        words = keys.generate_state(2 * BLOCKS * KEY_WORDS, np.uint64).reshape(2, BLOCKS, 2)
        self._gens = [
            [np.random.Generator(np.random.Philox(key=key)) for key in by_use] for by_use in words
        ]
        self._states = [[gen.bit_generator.state for gen in gens] for gens in self._gens]

    def batch(self, channel: int, day: int, lone: bool = False) -> list[np.random.Generator]:
        """Generators for one batch, one per use; valid until the next call."""
        gens, states = self._gens[int(lone)], self._states[int(lone)]
        for gen, state in zip(gens, states, strict=True):
            counter = state["state"]["counter"]
            counter[0] = counter[1] = 0
            counter[2], counter[3] = channel, day
            state["buffer_pos"] = len(state["buffer"])  # the buffer is spent: draw afresh
            state["has_uint32"] = 0
            gen.bit_generator.state = state
        return gens


def child(seq: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The `index`-th child of `seq`, as `seq.spawn` would first give it, without spawning.

    The caller's SeedSequence is left as it was, so it seeds the same run every time.
    """
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, index))
