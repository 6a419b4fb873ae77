"""Random streams are independent: no stream's draws predict another's.

Each check pools the correlation of same-position draws over many batches or runs; with n
pairs of independent uniforms its standard error is 1/sqrt(n), and the samples are large
enough that a correlation of 0.025 (what one PCG64 state offset by multiples of 2^96 gave)
would lie about 14 standard errors out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hourglass.experiments.replication import seed_child
from hourglass.sim.streams import BLOCKS, RUN_STREAMS, Streams, child

BATCHES = 20_000
POSITIONS = 16
CHANNELS = 10


def _batch_draws(lone: bool) -> np.ndarray:
    """Uniforms of every use of BATCHES batches, channels by days: (channel, day, use, position)."""
    streams = Streams(np.random.SeedSequence(2024))
    days = BATCHES // CHANNELS
    out = np.empty((CHANNELS, days, BLOCKS, POSITIONS))
    for channel in range(CHANNELS):
        for day in range(days):
            for use, gen in enumerate(streams.batch(channel, day, lone)):
                out[channel, day, use] = gen.random(POSITIONS)
    return out


@pytest.fixture(scope="module")
def draws() -> np.ndarray:
    return _batch_draws(lone=False)


def _assert_uncorrelated(x: np.ndarray, k: float = 4.0) -> None:
    """Every pair of streams in `x` correlates within k standard errors of zero.

    `x` holds samples, streams, positions; the correlation is pooled over same positions.
    """
    n = x.shape[0] * x.shape[2]
    r = np.corrcoef(x.transpose(1, 0, 2).reshape(x.shape[1], n))
    np.fill_diagonal(r, 0.0)
    i, j = np.unravel_index(np.abs(r).argmax(), r.shape)
    z = r[i, j] * math.sqrt(n)
    assert abs(z) < k, f"streams {i} and {j}: r = {r[i, j]:.4f}, {z:.1f} standard errors"


def test_the_uses_of_a_batch_draw_independently(draws):
    """The uses of one batch are independent streams.

    Arrival times, market picks, uniforms, patience and every stage's time in stage: pairwise
    same-position correlation is zero within 4 standard errors over 20,000 batches.
    """
    _assert_uncorrelated(draws.reshape(BATCHES, BLOCKS, POSITIONS))


def test_neighbouring_batches_draw_independently(draws):
    """A use's draws on one day are independent of its draws on the next day and channel.

    A lone referral's draws are independent of the batch's with the same channel and day.
    """
    lone = _batch_draws(lone=True)
    pairs = {
        "next day": (draws[:, :-1], draws[:, 1:]),
        "next channel": (draws[:-1], draws[1:]),
        "lone": (draws, lone),
    }
    for name, (a, b) in pairs.items():
        a = a.reshape(-1, BLOCKS, POSITIONS)
        b = b.reshape(-1, BLOCKS, POSITIONS)
        for use in range(BLOCKS):
            pair = np.stack([a[:, use], b[:, use]], axis=1)
            try:
                _assert_uncorrelated(pair)
            except AssertionError as e:
                raise AssertionError(f"{name}, use {use}: {e}") from None


def test_run_streams_and_lone_referrals_draw_independently():
    """Run-level streams, lone referrals' uses and a batch's uses are pairwise independent.

    Over 5,000 replications' seeds; the run-level streams are after the sale, referrals and
    the network's.
    """
    runs, positions = 5_000, 64
    streams = len(RUN_STREAMS) + 1 + 2 * BLOCKS
    x = np.empty((runs, streams, positions))
    for rep in range(runs):
        seq = seed_child(1, rep)
        run = [np.random.default_rng(child(seq, i)) for i in range(len(RUN_STREAMS) + 1)]
        x[rep, : len(run)] = [gen.random(positions) for gen in run]
        batches = Streams(seq)
        x[rep, len(run) : -BLOCKS] = [g.random(positions) for g in batches.batch(0, 0, True)]
        x[rep, -BLOCKS:] = [g.random(positions) for g in batches.batch(0, 0)]
    _assert_uncorrelated(x)


def test_a_batch_draws_the_same_whoever_asks_and_whenever():
    """A batch's luck depends on its seed, channel and day only.

    Not on the batches drawn before it, nor on the Streams object asked: common random
    numbers across runs.
    """
    seq = np.random.SeedSequence(7, spawn_key=(3,))
    fresh = [g.random(4) for g in Streams(seq).batch(2, 40)]
    used = Streams(seq)
    for day in range(5):
        used.batch(1, day)
    again = [g.random(4) for g in used.batch(2, 40)]
    assert np.array_equal(fresh, again)
    assert not np.array_equal(fresh, [g.random(4) for g in Streams(seq).batch(2, 40, True)])
