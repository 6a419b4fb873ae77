"""Answers from what the server holds: no theory sketch over stored runs; calibration steps."""

from __future__ import annotations

import numpy as np
import pytest

import hourglass as hg
from hourglass.app import cache
from hourglass.app.pages import import_data
from hourglass.calibration import estimators
from hourglass.calibration.export import export_deals, export_transactions
from hourglass.i18n import language
from hourglass.plots import forecast
from tests.helpers import shipped_run
from tests.test_dashboard import open_page
from tests.test_planner import DATED


def test_a_horizon_cut_from_stored_runs_draws_no_theory_sketch_first(monkeypatch):
    store, lock = cache.result_store()
    with lock:
        store.clear()
    at = open_page("planner", library={"dated": DATED}, chosen="dated")
    drawn: list[int] = []
    figure = forecast.forecast_figure

    def counted(bands, *args, **kwargs):
        drawn.append(len(bands))
        return figure(bands, *args, **kwargs)

    # the page runs as a script, importing the figure afresh from its module each run
    monkeypatch.setattr(forecast, "forecast_figure", counted)
    at.slider(key="horizon-dated").set_value(7)
    at.button[0].click().run()
    assert not at.exception
    assert len(drawn) == 1  # the simulated bands only: the runs were stored
    assert drawn[0] == 2 * 7  # two series, seven months each
    assert len(at.dataframe[0].value) == 7


def test_a_calibration_tells_its_steps_in_order():
    run = shipped_run("baseline", 1)
    deals = export_deals(run).head(3000).to_csv(index=False)
    steps: list[str] = []
    hg.calibrate(deals, progress=steps.append)
    assert steps == ["deals", "stages", "sellers", "referrals"]
    steps.clear()
    hg.calibrate(deals, export_transactions(run).head(2000), progress=steps.append)
    assert steps == ["deals", "stages", "sellers", "repeat", "referrals"]


class Bar:
    """A progress bar that keeps what it was told."""

    def __init__(self) -> None:
        self.told: list[tuple[float, str]] = []

    def progress(self, value: float, text: str) -> None:
        """Keep the bar's value and text."""
        self.told.append((value, text))


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Fitting the sellers"), ("ru", "Оцениваем продавцов")],
)
def test_the_import_page_names_each_calibration_step_in_the_readers_language(lang, words):
    bar = Bar()
    with language(lang):
        import_data._show_step(bar, "sellers")
    assert bar.told == [(2 / 5, words)]


def test_the_bootstrap_draws_the_weights_a_single_thread_draws():
    rng = np.random.default_rng(4)
    n = 300
    status = rng.choice(np.array(["passed", "lost", "open"]), n, p=[0.5, 0.4, 0.1])
    passed, event = (status == "passed").astype(float), (status != "open").astype(float)
    threaded = np.concatenate(estimators._bootstrap(np.random.default_rng(9), 120, passed, event))
    alone = np.random.default_rng(9)
    blocks = [alone.poisson(1.0, size=(size, n)).astype(float) for size in (50, 50, 20)]
    expected = np.concatenate([estimators._aalen_johansen(b, passed, event) for b in blocks])
    assert np.array_equal(threaded, expected)
