"""Simulations a page asks for: from the cache, or run on the server's pool within budgets.

Every request's work is estimated before it runs (`hourglass.config.work`). A session may
have SESSION_EVENTS of work running at once, the server SERVER_EVENTS and SERVER_MEMORY;
a request over them is refused with a message on the page, and there is no override (the
command line has one).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import streamlit as st

import hourglass as hg
from hourglass.app import cache, state
from hourglass.config.work import WorkCeilingError, WorkEstimate, check_work

SESSION_EVENTS = 12_000_000
"""Events one browser session may have running at once: a page answers in about a minute."""

SERVER_EVENTS = 36_000_000
"""Events all sessions together may have running at once."""

SERVER_MEMORY = 3 * 2**30
"""Memory all running simulations together may be expected to hold."""


class TooBig(Exception):
    """A run the dashboard will not simulate; the message says why."""


@dataclass(frozen=True)
class Load:
    """Work running now: events and expected memory."""

    events: float = 0.0
    memory: float = 0.0


def refusal(work: WorkEstimate, session: Load, server: Load, workers: int) -> str | None:
    """Why the dashboard will not run `work` now, or None if it fits both budgets.

    `session` and `server` are what is already running; at most `workers` runs of the work
    hold memory at once.
    """
    events, memory = work.events, work.memory_bytes * min(work.runs, workers)
    fit_runs = int(SESSION_EVENTS // max(work.events_per_run, 1.0))
    if events > SESSION_EVENTS or memory > SERVER_MEMORY:
        fewer = f"At most {fit_runs} replications fit: use fewer, " if fit_runs >= 1 else "Use "
        return (
            f"this needs about {_millions(events)} events in {work.runs} runs "
            f"({work.events_per_run:,.0f} each, mostly {work.driver}) and "
            f"{memory / 2**20:,.0f} MB of memory at once; a session may run "
            f"{_millions(SESSION_EVENTS)} events and {SERVER_MEMORY / 2**30:g} GB at once. "
            f"{fewer}a shorter horizon or fewer arrivals, or the command line: "
            "hourglass run SCENARIO"
        )
    if events + session.events > SESSION_EVENTS:
        return (
            f"this session already has about {_millions(session.events)} events running; "
            f"this needs {_millions(events)} more, over the session's "
            f"{_millions(SESSION_EVENTS)}. Wait for "
            "the running simulation to finish, then try again."
        )
    if events + server.events > SERVER_EVENTS or memory + server.memory > SERVER_MEMORY:
        return (
            "the server is busy with other sessions' simulations; try again in a minute "
            f"(this needs about {_millions(events)} events)."
        )
    return None


@dataclass
class Ledger:
    """The work running now on the server, by session; admits work within the budgets."""

    workers: int
    _running: dict[int, tuple[str, Load]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, session: str | None = None) -> Load:
        """What is running now: one session's, or the whole server's."""
        with self._lock:
            return _total([x for who, x in self._running.values() if session in (None, who)])

    @contextmanager
    def admitted(self, session: str, work: WorkEstimate) -> Iterator[None]:
        """Hold the work's place while it runs; TooBig, saying why, if it does not fit."""
        load = Load(work.events, work.memory_bytes * min(work.runs, self.workers))
        with self._lock:
            running = self._running.values()
            mine = _total([load for who, load in running if who == session])
            why = refusal(work, mine, _total([load for _, load in running]), self.workers)
            if why is not None:
                raise TooBig(why)
            ticket = id(load)
            self._running[ticket] = (session, load)
        try:
            yield
        finally:
            with self._lock:
                del self._running[ticket]


@st.cache_resource
def ledger() -> Ledger:
    """The work running on the server, by session: what the budgets are checked against."""
    return Ledger(cache.WORKERS)


def _total(loads: list[Load]) -> Load:
    return Load(sum(x.events for x in loads), sum(x.memory for x in loads))


def _millions(events: float) -> str:
    return f"{events / 1e6:,.1f} million"


def run(scenario: hg.Scenario, reps: int, seed: int) -> hg.experiments.Replications | None:
    """Replications of a scenario, from the cache or simulated under a progress bar.

    None, after saying why, when the request is over a budget or the simulation fails.
    """
    key = cache.result_key(scenario, reps, seed)
    found = cache.cached(key)
    if found is not None:
        return found
    bar = st.progress(0.0, text=f"Simulating {scenario.name}: 0 of {reps} replications")

    def tick(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Simulating {scenario.name}: {done} of {total}")

    try:
        with ledger().admitted(state.session_key(), estimate(scenario, reps)):
            result = hg.replicate(scenario, reps, seed, executor=cache.worker_pool(), progress=tick)
    except TooBig as err:
        st.error(f"'{scenario.name}' is not simulated: {err}")
        return None
    except (hg.experiments.ReplicationError, WorkCeilingError) as err:
        st.error(f"The simulation failed: {err}")
        return None
    finally:
        bar.empty()
    cache.store(key, result)
    return result


def estimate(scenario: hg.Scenario | list[hg.Scenario], runs: int) -> WorkEstimate:
    """The work of `runs` runs of the scenario (of each), limits left to the dashboard's budgets."""
    return check_work(scenario, runs, allow_large=True)


def fits(scenario: hg.Scenario, runs: int) -> bool:
    """Whether `runs` runs of the scenario fit the budgets now; says why not if they do not."""
    try:
        within_cap(scenario, runs)
    except TooBig as err:
        st.error(f"'{scenario.name}' is not simulated: {err}")
        return False
    return True


def within_cap(scenario: hg.Scenario, runs: int) -> None:
    """Raise TooBig if `runs` runs of the scenario do not fit the budgets now."""
    running = ledger()
    why = refusal(
        estimate(scenario, runs), running.load(state.session_key()), running.load(), running.workers
    )
    if why is not None:
        raise TooBig(why)
