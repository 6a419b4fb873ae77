"""What the server keeps for every session: scenario texts, parsed scenarios and results."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hourglass.experiments.replication import Executor

CACHE_SIZE = 24
"""Results kept per server, by scenario, seed and replications."""

ResultKey = tuple[str, int, int]

WORKERS = os.cpu_count() or 1
"""Worker processes the server runs simulations in, for all sessions together."""


@st.cache_data
def shipped_scenarios(folder: str) -> dict[str, str]:
    """The shipped scenario files' text, by scenario name.

    Each file is named as its scenario, so only the chosen one needs validating before the
    first chart.
    """
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(folder).glob("*.yaml"))}


@st.cache_resource(max_entries=64)
def parse(text: str, source: str) -> hg.Scenario:
    """A scenario text, validated; nothing it names is opened on the server.

    Scenarios are frozen, so one is shared by all sessions.
    """
    return hg.config.parse_scenario_text(text, source, files=False)


@st.cache_resource
def worker_pool() -> Executor:
    """The server's one pool of worker processes, shared by every session and page."""
    from hourglass.experiments.replication import Executor  # pandas: not before the sketch

    # spawned, not forked: a fork of the running server left its downloads and charts unanswered
    return Executor("processes", workers=WORKERS, start_method="spawn").__enter__()


@st.cache_resource
def result_store() -> tuple[OrderedDict, threading.Lock]:
    """Results shared by all sessions, by `result_key`, and the lock their threads take."""
    return OrderedDict(), threading.Lock()


def result_key(scenario: hg.Scenario, reps: int, seed: int) -> ResultKey:
    """What a result is cached by; name, description and lesson do not change the numbers."""
    words = {"name": "scenario", "description": "", "description_ru": "", "lesson": None}
    content = scenario.model_copy(update=words)
    return content.to_yaml(), seed, reps


def cached(key: ResultKey) -> hg.experiments.Replications | None:
    """The result stored under `key`, or None; a hit becomes the most recent."""
    store, lock = result_store()
    with lock:
        if key not in store:
            return None
        store.move_to_end(key)
        return store[key]


def store(key: ResultKey, result: hg.experiments.Replications) -> None:
    """Keep a result, forgetting the least recently used beyond CACHE_SIZE."""
    results, lock = result_store()
    with lock:
        results[key] = result
        while len(results) > CACHE_SIZE:
            results.popitem(last=False)


@st.cache_resource(max_entries=4)
def one_run(scenario_yaml: str, seed: int) -> hg.Run:
    """One run with its event log (the network's figures need each person), per server."""
    return hg.simulate(hg.config.parse_scenario_text(scenario_yaml, "scenario", files=False), seed)


@st.cache_resource(max_entries=16)
def network_picture(scenario_yaml: str, seed: int, day: int, labels: str) -> go.Figure:
    """The network coloured by state on a day; its layout takes a second or two."""
    return hg.plots.network_figure(one_run(scenario_yaml, seed), day, labels=labels)


@st.cache_resource(max_entries=4)
def clustering_of(scenario_yaml: str, seed: int) -> dict[str, float]:
    """Customers' clustering in one run (it samples the graph, so a day's redraw skips it)."""
    return hg.analysis.customer_clustering(one_run(scenario_yaml, seed))
