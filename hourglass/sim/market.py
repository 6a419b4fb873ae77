"""The finite market: who has already been reached, one bit per person."""

from __future__ import annotations

import numpy as np


class Market:
    """Who in a finite market has already been reached; one bit per person."""

    def __init__(self, size: int | None, rng: np.random.Generator) -> None:
        self.size, self._rng = size, rng
        self._bits = None if size is None else np.zeros((size + 7) // 8, dtype=np.uint8)
        self._picks: list[int] = []

    def claim_block(self, who: np.ndarray) -> np.ndarray:
        """Land contacts on people `who`, in order; True where one reached someone new."""
        n = len(who)
        if self._bits is None:
            return np.ones(n, dtype=bool)
        byte, bit = who >> 3, (who & 7).astype(np.uint8)
        free = np.flatnonzero(((self._bits[byte] >> bit) & 1) == 0)
        _, first = np.unique(who[free], return_index=True)
        new = np.zeros(n, dtype=bool)
        new[free[first]] = True
        np.bitwise_or.at(self._bits, byte[new], np.left_shift(1, bit[new]).astype(np.uint8))
        return new

    def pick_new(self) -> int:
        """A random person, or -1 if that person was reached before."""
        if self._bits is None:
            return 0
        if not self._picks:
            self._picks = self._rng.integers(self.size, size=1024).tolist()[::-1]
        who = self._picks.pop()
        return -1 if (self._bits[who >> 3] >> (who & 7)) & 1 else who

    def free(self, who: int) -> int:
        """Person `who`, or -1 if none (-1) or reached before."""
        if who < 0 or (self._bits[who >> 3] >> (who & 7)) & 1:
            return -1
        return who

    def claim(self, who: int) -> None:
        """Mark a person picked by `pick_new` as reached."""
        if self._bits is not None:
            self._bits[who >> 3] |= np.uint8(1 << (who & 7))
