"""Simulations a page asks for: from the cache, or run on the server's pool within budgets.

Every request's work is estimated before it runs (`hourglass.config.work`). A session may
have SESSION_EVENTS of work running at once, the server SERVER_EVENTS and SERVER_MEMORY;
a request over them is refused with a message on the page, and there is no override (the
command line has one). Work counts the days a run steps through as well as its events, so
a century-long horizon is refused though few customers arrive in it.

A page rerun while its simulation runs (a control changed) supersedes it: the new run's
request releases the old one's share at once, and the old run stops at its next replication.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.app import cache, state, widgets
from hourglass.config.work import (
    DAY_BATCH_EVENTS,
    WorkCeilingError,
    WorkEstimate,
    check_work,
    driver_words,
)
from hourglass.i18n import _, grouped

if TYPE_CHECKING:
    from hourglass.experiments.replication import RepResult

SESSION_EVENTS = 12_000_000
"""Events one browser session may have running at once: a page answers in about a minute."""

SERVER_EVENTS = 36_000_000
"""Events all sessions together may have running at once."""

SERVER_MEMORY = 3 * 2**30
"""Memory all running simulations together may be expected to hold."""


class TooBig(Exception):
    """A run the dashboard will not simulate; the message says why."""


class Superseded(Exception):
    """A run whose page was run again while it ran; its share of the budgets is released."""


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
    events, memory = work.effort, work.memory_bytes * min(work.runs, workers)
    fit_runs = int(SESSION_EVENTS // max(work.effort_per_run, 1.0))
    if events > SESSION_EVENTS or memory > SERVER_MEMORY:
        fewer = (
            _("At most {fit} replications fit: use fewer, ").format(fit=fit_runs)
            if fit_runs >= 1
            else _("Use ")
        )
        return _(
            "this needs about {events} events in {runs} runs ({each} each, mostly {driver}) "
            "and {memory} MB of memory at once; a session may run {budget} events and "
            "{gigabytes} GB at once. {fewer}a shorter horizon or fewer arrivals, or the "
            "command line: hourglass run SCENARIO"
        ).format(
            events=_millions(events),
            runs=work.runs,
            each=grouped(work.effort_per_run),
            driver=_driver(work),
            memory=grouped(memory / 2**20),
            budget=_millions(SESSION_EVENTS),
            gigabytes=f"{SERVER_MEMORY / 2**30:g}",
            fewer=fewer,
        )
    return _busy(Load(events, memory), session, server)


CALIBRATION_ROW_EVENTS = 33.0
"""The time one CSV row takes to calibrate, in events: 157 us a row where an event took 4.8 us."""

CALIBRATION_ROW_BYTES = 1_000
"""Memory one CSV row takes while it is calibrated (read, cleaned and fitted)."""


def calibration_load(rows: int) -> Load:
    """The work of calibrating `rows` rows of CSV, in events and bytes."""
    return Load(rows * CALIBRATION_ROW_EVENTS, rows * CALIBRATION_ROW_BYTES)


def calibration_refusal(rows: int, session: Load, server: Load) -> str | None:
    """Why the dashboard will not calibrate `rows` rows now, or None if they fit the budgets."""
    load = calibration_load(rows)
    if load.events > SESSION_EVENTS or load.memory > SERVER_MEMORY:
        return _(
            "these files hold {rows} rows; calibrating them is about {events} events of work, "
            "over a session's {budget}. Upload a shorter period, or calibrate on the command "
            "line: hourglass calibrate --deals FILE"
        ).format(
            rows=grouped(rows), events=_millions(load.events), budget=_millions(SESSION_EVENTS)
        )
    return _busy(load, session, server)


def _busy(load: Load, session: Load, server: Load) -> str | None:
    """Why `load` must wait for what this session or the server is running, or None."""
    events = load.events
    if events + session.events > SESSION_EVENTS:
        return _(
            "this session already has about {running} events running; this needs {events} "
            "more, over the session's {budget}. Wait for the running simulation to finish, "
            "then try again."
        ).format(
            running=_millions(session.events),
            events=_millions(events),
            budget=_millions(SESSION_EVENTS),
        )
    if events + server.events > SERVER_EVENTS or load.memory + server.memory > SERVER_MEMORY:
        return _(
            "the server is busy with other sessions' simulations; try again in a minute "
            "(this needs about {events} events)."
        ).format(events=_millions(events))
    return None


def _driver(work: WorkEstimate) -> str:
    """What drives the work most: a kind of event, or the days of a long horizon."""
    if DAY_BATCH_EVENTS * work.day_batches > max(work.parts.values()):
        return _("the {days} days of its horizon").format(days=grouped(work.horizon_days))
    return driver_words(work.driver)


@dataclass
class Claim:
    """One admitted request's place in the budgets, held by one page run of one session."""

    session: str
    load: Load
    thread: int = field(default_factory=threading.get_ident)
    active: bool = True

    def check(self) -> None:
        """Raise Superseded once a newer run of the session's page has taken this place."""
        if not self.active:
            raise Superseded


@dataclass
class Ledger:
    """The work running now on the server, by session; admits work within the budgets."""

    workers: int
    _running: dict[int, Claim] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, session: str | None = None) -> Load:
        """What is running now: one session's, or the whole server's."""
        with self._lock:
            return _total([c.load for c in self._running.values() if session in (None, c.session)])

    def admitted(self, session: str, work: WorkEstimate) -> AbstractContextManager[Claim]:
        """Hold the work's place while it runs; TooBig, saying why, if it does not fit."""
        load = Load(work.effort, work.memory_bytes * min(work.runs, self.workers))
        return self._held(session, load, lambda mine, all_: refusal(work, mine, all_, self.workers))

    def calibration_admitted(self, session: str, rows: int) -> AbstractContextManager[Claim]:
        """Hold a calibration's place while it runs; TooBig, saying why, if it does not fit."""
        load = calibration_load(rows)
        return self._held(session, load, lambda mine, all_: calibration_refusal(rows, mine, all_))

    @contextmanager
    def _held(
        self, session: str, load: Load, why_not: Callable[[Load, Load], str | None]
    ) -> Iterator[Claim]:
        """Hold `load` in the budgets while the block runs, unless `why_not` says why not.

        A page run is one thread: the session's claims held by another thread belong to a
        run this request supersedes, and are released first.
        """
        claim = Claim(session, load)
        with self._lock:
            for ticket, old in list(self._running.items()):
                if old.session == session and old.thread != claim.thread:
                    old.active = False
                    del self._running[ticket]
            claims = self._running.values()
            mine = _total([c.load for c in claims if c.session == session])
            why = why_not(mine, _total([c.load for c in claims]))
            if why is not None:
                raise TooBig(why)
            self._running[id(claim)] = claim
        try:
            yield claim
        finally:
            with self._lock:
                self._running.pop(id(claim), None)


@st.cache_resource
def ledger() -> Ledger:
    """The work running on the server, by session: what the budgets are checked against."""
    return Ledger(cache.WORKERS)


def _total(loads: list[Load]) -> Load:
    return Load(sum(x.events for x in loads), sum(x.memory for x in loads))


def _millions(events: float) -> str:
    return _("{n} million").format(n=grouped(events / 1e6, 1))


Partial = Callable[["hg.experiments.Replications"], None]
"""Told the replications finished so far, each time one more finishes but the last (named as
a string, so that loading the page does not load the experiments and pandas)."""


def run(
    scenario: hg.Scenario, reps: int, seed: int, partial: Partial | None = None
) -> hg.experiments.Replications | None:
    """Replications of a scenario, from the cache or simulated under a progress bar.

    While they run, `partial` is given the replications finished so far, so a page can
    show the first numbers at once and refine them. None, after saying why, when the
    request is over a budget or the simulation fails.
    """
    key = cache.result_key(scenario, reps, seed)
    found = cache.cached(key)
    if found is not None:
        return found
    bar = st.progress(
        0.0,
        text=_("Simulating {name}: 0 of {reps} replications").format(name=scenario.name, reps=reps),
    )
    from hourglass.experiments.replication import gathered  # pandas: not before the sketch

    claim: Claim | None = None
    finished: dict[int, RepResult] = {}

    def tick(done: int, total: int) -> None:
        claim.check()
        text = _("Simulating {name}: {done} of {total}")
        bar.progress(done / total, text=text.format(name=scenario.name, done=done, total=total))
        if partial is not None and done < total:
            partial(gathered(scenario, seed, finished, "processes", 0.0))

    try:
        with ledger().admitted(state.session_key(), estimate(scenario, reps)) as claim:
            result = simulated(scenario, reps, seed, finished, tick)
    except Superseded:  # the page is running again with the user's new choice
        return None
    except TooBig as err:
        st.error(_("'{name}' is not simulated: {reason}").format(name=scenario.name, reason=err))
        return None
    except (hg.experiments.ReplicationError, WorkCeilingError) as err:
        st.error(_("The simulation failed: {reason}").format(reason=err))
        return None
    finally:
        bar.empty()
    cache.store(key, result)
    return result


@contextmanager
def so_far(kpis: Sequence[str], reps: int, language: str) -> Iterator[Partial]:
    """A place on the page for the KPIs of the replications finished so far.

    The block's run draws into it as replications arrive ("1 of 8 runs; range follows"),
    and the place is cleared when the block ends, for the full answer to take it.
    """
    slot = st.empty()

    def draw(replications: hg.experiments.Replications) -> None:
        with slot.container():
            st.caption(
                _("{done} of {total} runs; range follows").format(
                    done=replications.reps, total=reps
                )
            )
            means = replications.kpis.mean()
            for column, kpi in zip(widgets.grid(len(kpis)), kpis, strict=True):
                widgets.kpi_metric(column, kpi, means[kpi], language)

    try:
        yield draw
    finally:
        slot.empty()


def simulated(
    scenario: hg.Scenario,
    reps: int,
    seed: int,
    finished: dict[int, RepResult],
    progress: Callable[[int, int], None],
) -> hg.experiments.Replications:
    """`hg.replicate` on the server's pool, filling `finished` as replications arrive.

    The same seed children in the same order: the same numbers as `hg.replicate`.
    """
    from hourglass.experiments.replication import collect, gathered

    pool = cache.worker_pool()
    started = time.perf_counter()
    collect(pool, scenario, seed, range(reps), finished, progress, reps)
    return gathered(scenario, seed, finished, pool.backend, time.perf_counter() - started)


def estimate(scenario: hg.Scenario | list[hg.Scenario], runs: int) -> WorkEstimate:
    """The work of `runs` runs of the scenario (of each), limits left to the dashboard's budgets."""
    return check_work(scenario, runs, allow_large=True)


def fits(scenario: hg.Scenario, runs: int) -> bool:
    """Whether `runs` runs of the scenario fit the budgets now; says why not if they do not."""
    try:
        within_cap(scenario, runs)
    except TooBig as err:
        st.error(_("'{name}' is not simulated: {reason}").format(name=scenario.name, reason=err))
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
