"""Forecasts of a customer base, month by month, from its own transaction log.

Each customer who bought by `until` joins the run on the forecast's first day, conditioned
on their own purchases so far (`hourglass.sim.known`): alive with BG/NBD's P(alive | x, t_x,
T), buying on at a rate and dropping out with a chance drawn from the posterior given alive.
The repeat model is the scenario's, or one calibrated from the log up to `until`. Unless the
parameters are held fixed, each replication draws BG/NBD's (and Gamma-Gamma's) parameters from
the fit's asymptotic normal on the log scale, so the band holds what the data leave unknown as
well as the simulation's noise. With a scenario, the run is the scenario's: new customers come
from its channels, and the known customers talk as its customers do, at its referral rates by
loyalty class, so the prospects they refer are new customers too; its parameters given with
bounds (a pass probability's interval) are drawn per replication. Where the log goes on after
`until`, the actual figures stand beside the forecast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hourglass.calibration.btyd import bgnbd_conditional_expected, rfm_summary
from hourglass.calibration.crm import Transactions
from hourglass.calibration.fit import Calibration, calibrate
from hourglass.config.distributions import uncertain_parameters, with_drawn_parameters
from hourglass.config.gaps import gap_records
from hourglass.config.scenario import Scenario, parse_scenario
from hourglass.config.work import estimate_work, refuse_large
from hourglass.i18n import _
from hourglass.log import Run
from hourglass.sim.engine import simulate
from hourglass.sim.known import KnownCustomers

MAX_MONTHS = 120
"""The longest forecast: ten years."""
METRICS = ("active_customers", "repeat_purchases", "revenue", "new_customers", "referrals")
"""What is forecast each month."""
BOUNDS = {"r": 1e3, "alpha": 1e6, "a": 1e6, "b": 1e6}
"""Upper bounds of drawn BG/NBD parameters (the scenario's); the lower bound is 0.001."""


class ForecastError(ValueError):
    """Input a forecast cannot be made from; the message names the option or field."""


@dataclass(frozen=True)
class Forecast:
    """Draws per replication and month, the actual figures where the log has them."""

    until: pd.Timestamp
    months: list[pd.Timestamp]
    """The first day forecast in each month (the first may start mid-month)."""
    draws: dict[str, np.ndarray]
    """Metric -> (replications, months)."""
    totals: dict[str, np.ndarray]
    """Metric -> per replication, over the whole window (active customers counted once)."""
    actual: dict[str, np.ndarray]
    """Metric -> per month, NaN where the log does not cover the month."""
    actual_totals: dict[str, float]
    """Over the window, where the log covers all of it."""
    closed_form: np.ndarray | None
    """BG/NBD's expected repeat purchases per month of the known customers given their
    histories (Fader, Hardie and Lee's eq. 10), at the fit."""
    uncertainty: list[str]
    parameters: np.ndarray
    """The BG/NBD parameters (r, alpha, a, b) each replication ran with."""
    not_estimated: list[str | dict[str, Any]] = field(default_factory=list)
    """The scenario's parts its data could not estimate (from its `not_estimated`)."""

    def band(self, values: np.ndarray) -> dict[str, float]:
        """Mean, 5th, 50th and 95th percentiles of replications."""
        p5, p50, p95 = np.percentile(values, [5, 50, 95])
        return {"mean": float(np.mean(values)), "p5": p5, "p50": p50, "p95": p95}

    def inside_band(self, metric: str = "repeat_purchases") -> tuple[int, int]:
        """Months with a known actual, and how many of those fell inside [p5, p95]."""
        known = ~np.isnan(self.actual[metric])
        low, high = np.percentile(self.draws[metric], [5, 95], axis=0)
        actual = self.actual[metric]
        return int(known.sum()), int((known & (actual >= low) & (actual <= high)).sum())

    def to_dict(self) -> dict[str, Any]:
        """Month by month and over the window, each metric as a band; actuals where known."""
        monthly = []
        for k, start in enumerate(self.months):
            row: dict[str, Any] = {"month": f"{start:%Y-%m}", "from": f"{start:%Y-%m-%d}"}
            row |= {m: _plain(self.band(self.draws[m][:, k])) for m in METRICS}
            row |= {
                f"actual_{m}": _number(self.actual[m][k])
                for m in self.actual
                if not np.isnan(self.actual[m][k])
            }
            monthly.append(row)
        total = {m: _plain(self.band(self.totals[m])) for m in METRICS}
        for m, value in self.actual_totals.items():
            total[m]["actual"] = _number(value)
        if self.closed_form is not None:
            total["repeat_purchases"]["closed_form"] = float(self.closed_form.sum())
        known, inside = self.inside_band()
        return {
            "until": f"{self.until:%Y-%m-%d}",
            "reps": len(self.parameters),
            "uncertainty": self.uncertainty,
            **({"not_estimated": self.not_estimated} if self.not_estimated else {}),
            "monthly": monthly,
            "total": total,
            "backtest": {
                "months": known,
                "inside_band": inside,
                "share_inside": inside / known if known else None,
            },
        }


def _plain(band: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in band.items()}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True)
class _Window:
    """The forecast's months from the day after `until`, its day 0."""

    until: pd.Timestamp
    starts: list[pd.Timestamp]
    end: pd.Timestamp

    @property
    def edges(self) -> np.ndarray:
        """The months' edges in days from day 0."""
        days = [(d - self.starts[0]) / pd.Timedelta(days=1) for d in [*self.starts, self.end]]
        return np.asarray(days, dtype=float)


def forecast(
    transactions: Transactions,
    until: pd.Timestamp,
    months: int,
    scenario: Scenario | None = None,
    reps: int = 20,
    seed: int = 0,
    fixed_parameters: bool = False,
    allow_large: bool = False,
) -> Forecast:
    """Forecast the log's customers (and, with a scenario, new ones) for `months` months."""
    rows = transactions.rows.assign(day=transactions.rows["date"].dt.normalize())
    until = until.normalize()
    window = _window(rows, until, months, transactions.skipped.file)
    # the whole of `until` is known: each customer's age runs to the forecast's day 0
    history = rfm_summary(transactions.rows, until, 1.0, seen_to=window.starts[0])
    model = _RepeatModel.of(transactions, until, scenario, fixed_parameters)
    horizon = float(window.edges[-1])
    shop = _shop(scenario, horizon)
    _check_work(shop or model.scenario(horizon, None), len(history), reps, allow_large)
    sequences = np.random.SeedSequence(seed).spawn(reps)
    draws = {m: np.zeros((reps, len(window.starts))) for m in METRICS}
    totals = {m: np.zeros(reps) for m in METRICS}
    parameters = np.zeros((reps, 4))
    for rep, sequence in enumerate(sequences):
        run_seq, parameter_seq = sequence.spawn(2)
        rng = np.random.default_rng(parameter_seq)
        if shop is None:
            ran = cohort = model.scenario(horizon, rng)
        else:
            ran = shop if fixed_parameters else with_drawn_parameters(shop, rng)
            cohort = ran if model.fit is None else model.scenario(horizon, rng)
        parameters[rep] = model.bgnbd_of(cohort)
        # in a shop without a repeat model the log's customers keep the log's order values
        known = _known(history, cohort, own_value=ran is not cohort)
        _add(draws, totals, rep, simulate(ran, run_seq, known=known), window.edges)
    whose = None if scenario is not None else set(history.index)
    actual, actual_totals = _actual(rows, window, whose)
    return Forecast(
        until=until,
        months=window.starts,
        draws=draws,
        totals=totals,
        actual=actual,
        actual_totals=actual_totals,
        closed_form=model.closed_form(history, window.edges),
        uncertainty=_sources(model.uncertainty, None if fixed_parameters else scenario),
        parameters=parameters,
        not_estimated=gap_records(scenario.not_estimated) if scenario is not None else [],
    )


def _known(history: pd.DataFrame, cohort: Scenario, own_value: bool) -> KnownCustomers:
    """The log's customers with the cohort's repeat model (and order values if `own_value`)."""
    after = cohort.after_sale
    return KnownCustomers(
        x=history["x"].to_numpy(float),
        t_x=history["t_x"].to_numpy(float),
        age=history["T"].to_numpy(float),
        repeat=after.repeat,
        order_value=after.order_value if own_value else None,
    )


def _sources(cohort: list[str], scenario: Scenario | None) -> list[str]:
    """What the band holds: the cohort's sources, and the scenario's parameters with bounds."""
    if scenario is not None and uncertain_parameters(scenario) and "parameters" not in cohort:
        return [*cohort, "parameters"]
    return cohort


def _window(rows: pd.DataFrame, until: pd.Timestamp, months: int, file: str) -> _Window:
    """The forecast's months from the day after `until`; refused outside the log's dates."""
    if not 1 <= months <= MAX_MONTHS:
        raise ForecastError(
            _("--months {months}: give a whole number of months from 1 to {most}").format(
                months=months, most=MAX_MONTHS
            )
        )
    first, last = rows["day"].min(), rows["day"].max()
    if not first <= until <= last:
        raise ForecastError(
            _(
                "--until {until}: the log {file} runs from {first} to {last}; the forecast "
                "starts after a date within it (its customers are those who bought by then)"
            ).format(
                until=f"{until:%Y-%m-%d}",
                file=file,
                first=f"{first:%Y-%m-%d}",
                last=f"{last:%Y-%m-%d}",
            )
        )
    start = until + pd.Timedelta(days=1)
    month = start.to_period("M")
    starts = [start] + [(month + k).to_timestamp() for k in range(1, months)]
    return _Window(until, starts, (month + months).to_timestamp())


@dataclass(frozen=True)
class _RepeatModel:
    """The known customers' repeat buying and order value: fixed, or drawn per replication."""

    data: dict[str, Any]
    """The cohort's scenario as plain data (its horizon set per forecast); empty when the
    scenario's own repeat model is used."""
    fit: Calibration | None
    uncertainty: list[str]

    @classmethod
    def of(
        cls,
        transactions: Transactions,
        until: pd.Timestamp,
        scenario: Scenario | None,
        fixed: bool,
    ) -> _RepeatModel:
        """The scenario's repeat model if it has one, else one calibrated from the log."""
        if scenario is not None and scenario.after_sale.repeat is not None:
            return cls({}, None, ["simulation"])
        cal = calibrate(None, transactions, until=until)
        data = cal.scenario_data()
        if cal.repeat is None:
            raise ForecastError(
                _(
                    "--transactions {file}: the repeat buying could not be fitted from the "
                    "purchases up to --until ({why}); give a scenario with after_sale.repeat"
                ).format(
                    file=transactions.skipped.file,
                    why="; ".join(n for n in cal.notes if "not fitted" in n),
                )
            )
        drawn = not fixed and _finite(cal.repeat.cov)
        return cls(data, cal, ["simulation", "parameters"] if drawn else ["simulation"])

    def scenario(self, horizon: float, rng: np.random.Generator | None) -> Scenario:
        """The cohort's scenario to `horizon` days; parameters drawn when `rng` is given."""
        data = {**self.data, "horizon_days": horizon, "after_sale": {**self.data["after_sale"]}}
        if rng is not None and "parameters" in self.uncertainty and self.fit is not None:
            data["after_sale"]["repeat"] = {"bgnbd": self._drawn_bgnbd(rng)}
            spend = self.fit.spend
            if (
                spend is not None
                and _finite(spend.cov)
                and "gamma" in data["after_sale"].get("order_value", {})
            ):
                data["after_sale"]["order_value"] = _drawn_order_value(spend, rng)
        return parse_scenario(data, source="forecast")

    def _drawn_bgnbd(self, rng: np.random.Generator) -> dict[str, float]:
        fit = self.fit.repeat
        centre = np.log([fit.r.value, fit.alpha.value, fit.a.value, fit.b.value])
        values = np.exp(rng.multivariate_normal(centre, fit.cov))
        drawn = {
            name: float(np.clip(v, 1e-3, BOUNDS[name]))
            for name, v in zip(BOUNDS, values, strict=True)
        }
        return drawn | {"period_days": fit.period_days}

    @staticmethod
    def bgnbd_of(scenario: Scenario) -> np.ndarray:
        """The scenario's BG/NBD parameters (NaN without them)."""
        repeat = scenario.after_sale.repeat
        if repeat is None or repeat.bgnbd is None:
            return np.full(4, np.nan)
        g = repeat.bgnbd
        return np.array([g.r, g.alpha, g.a, g.b])

    def closed_form(self, history: pd.DataFrame, edges: np.ndarray) -> np.ndarray | None:
        """BG/NBD's expected repeat purchases of the known customers in each month.

        Each customer's given their history (Fader, Hardie and Lee's eq. 10), at the fit.
        """
        if self.fit is None:
            return None
        fit = self.fit.repeat
        params = (fit.r.value, fit.alpha.value, fit.a.value, fit.b.value)
        x = history["x"].to_numpy(float)
        t_x, age = (history[c].to_numpy(float) / fit.period_days for c in ("t_x", "T"))
        cumulative = [
            bgnbd_conditional_expected(t / fit.period_days, x, t_x, age, *params).sum()
            for t in edges
        ]
        return np.diff(cumulative)


def _drawn_order_value(spend: Any, rng: np.random.Generator) -> dict[str, Any]:
    """Gamma-Gamma's parameters drawn once; the order value's mean and cv at the draw.

    A draw with q <= 1 (no finite mean) is drawn again; cv is held within [0.01, 20].
    """
    centre = np.log([spend.p.value, spend.q.value, spend.v.value])
    for _attempt in range(100):
        p, q, v = np.exp(rng.multivariate_normal(centre, spend.cov))
        if q > 1.0:
            break
    else:
        p, q, v = np.exp(centre)
    mean = p * v / (q - 1.0)
    cv = np.sqrt((p + 1.0) * (q - 1.0) / (p * (q - 2.0)) - 1.0) if q > 2.0 else np.inf
    return {"gamma": {"mean": float(mean), "cv": float(np.clip(cv, 0.01, 20.0))}}


def _finite(cov: np.ndarray | None) -> bool:
    return cov is not None and bool(np.all(np.isfinite(cov)))


def _shop(scenario: Scenario | None, horizon: float) -> Scenario | None:
    """The scenario over the forecast's days, for new customers from its channels.

    Its starting customers are left out: the log's customers are the ones the business has.
    """
    if scenario is None:
        return None
    if scenario.network is not None:
        raise ForecastError(
            _(
                "{scenario}: network: the log's customers have no place in the scenario's "
                "network; forecast with a scenario without one"
            ).format(scenario=scenario.name)
        )
    update = {"horizon_days": horizon, "warmup_days": 0.0, "starting_customers": None}
    return scenario.model_copy(update=update)


def _check_work(shop: Scenario, known: int, reps: int, allow_large: bool) -> None:
    """Refuse, before any run, a forecast whose work is over the limits."""
    estimate = estimate_work(shop, reps, known_customers=[0.0] * known)
    refuse_large(estimate, shop, allow_large=allow_large)


def _add(
    draws: dict[str, np.ndarray],
    totals: dict[str, np.ndarray],
    rep: int,
    run: Run,
    edges: np.ndarray,
) -> None:
    """Add one run's purchases per month to replication `rep`."""
    bought = run.log.purchases
    time = bought["time"]
    inside = (time >= edges[0]) & (time < edges[-1])
    month = np.searchsorted(edges, time[inside], side="right") - 1
    months = len(edges) - 1
    kind, customer = bought["kind"][inside], bought["customer"][inside]
    referral = _referred(run)[customer] if run.log.channels else np.zeros(len(customer), bool)
    counts = {
        "repeat_purchases": np.bincount(month, weights=kind >= 1, minlength=months),
        "revenue": np.bincount(month, weights=bought["value"][inside], minlength=months),
        "new_customers": np.bincount(month, weights=kind == 0, minlength=months),
        "referrals": np.bincount(month, weights=(kind == 0) & referral, minlength=months),
        "active_customers": np.bincount(
            np.unique(np.stack([month, customer]), axis=1)[0], minlength=months
        ),
    }
    for metric, per_month in counts.items():
        draws[metric][rep] += per_month
    for metric in ("repeat_purchases", "revenue", "new_customers", "referrals"):
        totals[metric][rep] += counts[metric].sum()
    totals["active_customers"][rep] += len(np.unique(customer))


def _referred(run: Run) -> np.ndarray:
    """Per prospect: whether the referral channel brought it."""
    channels = run.log.channels
    code = channels.index("referral") if "referral" in channels else -1
    return run.log.prospects["channel"] == code


def _actual(
    rows: pd.DataFrame, window: _Window, whose: set[str] | None
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The log's figures per month (a day's purchases count once), for months it covers.

    `whose` limits them to the known customers when no new ones are forecast.
    """
    per_day = rows.groupby(["customer", "day"], as_index=False)["amount"].sum()
    per_day["first"] = per_day.groupby("customer")["day"].transform("min")
    if whose is not None:
        per_day = per_day[per_day["customer"].isin(whose)]
    seen = rows["day"].max()
    edges = [*window.starts, window.end]
    covered = np.array([seen >= end - pd.Timedelta(days=1) for end in edges[1:]])
    out = {
        m: np.full(len(window.starts), np.nan)
        for m in ("repeat_purchases", "active_customers", "revenue", "new_customers")
    }
    totals: dict[str, float] = {}
    mine = per_day[(per_day["day"] >= edges[0]) & (per_day["day"] < edges[-1])]
    month = (
        np.searchsorted(
            np.array(edges, dtype="datetime64[ns]"), mine["day"].to_numpy(), side="right"
        )
        - 1
    )
    figures = {
        "repeat_purchases": np.bincount(
            month, weights=mine["day"] > mine["first"], minlength=len(covered)
        ),
        "revenue": np.bincount(month, weights=mine["amount"], minlength=len(covered)),
        "new_customers": np.bincount(
            month, weights=mine["day"] == mine["first"], minlength=len(covered)
        ),
        "active_customers": np.bincount(
            pd.DataFrame({"m": month, "c": mine["customer"].to_numpy()}).drop_duplicates()["m"],
            minlength=len(covered),
        ),
    }
    for metric, values in figures.items():
        out[metric][covered] = values[covered]
        if covered.all():
            totals[metric] = (
                float(values.sum())
                if metric != "active_customers"
                else float(mine["customer"].nunique())
            )
    return out, totals
