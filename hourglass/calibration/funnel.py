"""The funnel's estimates from a CRM export: stages and channels, with 95% intervals.

Per stage: the pass probability from the Aalen-Johansen cumulative incidences of passing
and of being lost, so deals still open at the end count as right-censored (not dropped);
time in stage by censored maximum likelihood over exponential, gamma and lognormal, the
family chosen by AIC. Arrivals per channel and loss-reason shares (sellers: sellers.py).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hourglass.analysis.intervals import Estimate, wilson
from hourglass.calibration.crm import Deals
from hourglass.calibration.estimators import (
    DurationFit,
    fit_duration,
    pass_probability,
    poisson_rate,
)
from hourglass.calibration.mapping import CrmMapping
from hourglass.i18n import _
from hourglass.stages import DISQUALIFIED, FUNNEL, WENT_COLD, stage_word


@dataclass(frozen=True)
class StageFit:
    """One funnel stage: visits by status, pass probability, time in stage, loss reasons."""

    stage: str
    visits: int
    passed: int
    lost: int
    open: int
    pass_prob: Estimate
    duration: DurationFit | None
    loss_reasons: dict[str, Estimate]
    """Share of the stage's losses per reason, with Wilson intervals."""
    by_source: dict[str, SourceFit] = field(default_factory=dict)
    """The pass probability per channel (sources.py), where the export names sources."""
    source_difference: float | None = None
    """P-value of the test that every channel passes the stage alike (None: under two)."""


@dataclass(frozen=True)
class SourceFit:
    """One channel's visits to a stage by status and its pass probability there."""

    passed: int
    lost: int
    open: int
    pass_prob: Estimate


@dataclass(frozen=True)
class ChannelFit:
    """New deals per day from one source, with an exact Poisson 95% interval."""

    channel: str
    kind: str
    """paid, organic or referral."""
    deals: int
    per_day: Estimate


MAX_MEAN_DAYS = 36_500.0
"""A time in stage whose mean's interval reaches past this (a century) is left unfitted."""

_CYRILLIC = str.maketrans("абвгдеёзийклмнопрстуфыэіґ", "abvgdeeziyklmnoprstufyeig", "ъь") | {
    ord(letter): latin
    for letter, latin in (
        ("ж", "zh"),
        ("х", "kh"),  # noqa: RUF001 (the Cyrillic letter is meant)
        ("ц", "ts"),
        ("ч", "ch"),
        ("ш", "sh"),
        ("щ", "shch"),
        ("ю", "yu"),
        ("я", "ya"),
        ("ї", "yi"),
        ("є", "ye"),
    )
}
"""Cyrillic letters in Latin ones (as in passports), so that channels keep readable names."""


@functools.lru_cache(maxsize=65_536)  # an export repeats a few sources on every deal
def slug(text: str, taken: frozenset[str] = frozenset()) -> str:
    """A scenario name from free text: lower case letters, digits and underscores.

    Cyrillic is written in Latin letters and accents are dropped: "Яндекс Директ" is
    yandeks_direkt, "Café" is cafe.
    """
    latin = unicodedata.normalize("NFKD", text.strip().casefold().translate(_CYRILLIC))
    name = re.sub(r"[^a-z0-9]+", "_", latin.encode("ascii", "ignore").decode()).strip("_")
    name = name or "unnamed"
    if not name[0].isalpha():
        name = f"x_{name}"
    name = name[:36]
    return f"{name}_crm" if name in taken else name


def fit_stages(deals: Deals, rng: np.random.Generator, notes: list[str]) -> list[StageFit]:
    """Every funnel stage's fit; a stage with no visits passes everyone at once."""
    v = deals.visits
    out = []
    for k, name in enumerate(FUNNEL):
        mine = v[v["stage"] == k]
        status = mine["status"].to_numpy(str)
        counts = {s: int((status == s).sum()) for s in ("passed", "lost", "open")}
        if mine.empty:
            notes.append(
                _("{stage}: no visits; the scenario lets everyone pass at once").format(
                    stage=stage_word(name)
                )
            )
            out.append(StageFit(name, 0, 0, 0, 0, Estimate(math.nan, math.nan, math.nan), None, {}))
            continue
        left = mine["left"].to_numpy(float)
        entered = mine["entered"].to_numpy(float)
        is_open = status == "open"
        unknown = ~is_open & np.isnan(left)
        # an open visit with a leaving time left for an unmapped stage: censored then
        days = np.where(is_open & np.isnan(left), deals.until - entered, left - entered)
        prob = pass_probability(np.where(unknown, 0.0, days), status, rng)
        if not math.isfinite(prob.value):
            notes.append(
                _(
                    "{stage}: pass probability not estimated: no visit was decided yet "
                    "(the scenario lets everyone pass)"
                ).format(stage=stage_word(name))
            )
        if unknown.any():
            notes.append(
                _(
                    "{stage}: {n} decided visits have no leaving time; they count for the "
                    "pass probability, not for the time in stage"
                ).format(stage=stage_word(name), n=int(unknown.sum()))
            )
        exact, censored = days[~is_open & ~unknown], days[is_open]
        duration = None
        if len(exact) >= 2:
            duration = fit_duration(np.maximum(exact, 0.0), np.maximum(censored, 0.0))
            if not duration.mean_days.high <= MAX_MEAN_DAYS:
                notes.append(
                    _(
                        "{stage}: time in stage not fitted: its fit runs off to a mean beyond "
                        "{most} days (visits left at once while others stay open for long); "
                        "the scenario uses 0 days"
                    ).format(stage=stage_word(name), most=f"{MAX_MEAN_DAYS:,.0f}")
                )
                duration = None
        else:
            notes.append(
                _(
                    "{stage}: time in stage not fitted: fewer than 2 visits left it at a known "
                    "time (the scenario uses 0 days)"
                ).format(stage=stage_word(name))
            )
        reasons = _loss_reasons(mine, status, name, deals, notes)
        out.append(StageFit(name, len(mine), *counts.values(), prob, duration, reasons))
    return out


def _loss_reasons(
    mine: pd.DataFrame, status: np.ndarray, name: str, deals: Deals, notes: list[str]
) -> dict[str, Estimate]:
    if "loss_reason" not in deals.columns:
        return {}
    given = mine.loc[status == "lost", "loss_reason"]
    if given.empty:
        return {}
    named = given.where(given != "", "unspecified").map(
        lambda r: slug(r, frozenset({WENT_COLD, DISQUALIFIED}))
    )
    counts = named.value_counts()
    return {reason: wilson(int(n), len(named)) for reason, n in counts.items()}


def channel_of(source: str, mapping: CrmMapping) -> tuple[str, str]:
    """The channel a deal's source counts under, and its kind (paid, organic or referral)."""
    return _channel(source, tuple(mapping.referral_sources), tuple(mapping.organic_sources))


@functools.lru_cache(maxsize=65_536)  # asked once per deal, with a few sources in all
def _channel(source: str, referral: tuple[str, ...], organic: tuple[str, ...]) -> tuple[str, str]:
    """`channel_of` for the mapping's referral and organic sources."""
    key = source.strip().casefold()
    if key in {s.strip().casefold() for s in referral}:
        return source, "referral"
    if key == "" or key in {s.strip().casefold() for s in organic}:
        return source or "(no source)", "organic"
    return slug(source, frozenset({"organic", "referral"})), "paid"


def fit_channels(
    deals: Deals, mapping: CrmMapping, notes: list[str], warnings: list[str]
) -> list[ChannelFit]:
    """New deals per day per source over the calibration period.

    Sources written differently that read alike as channel names are counted as one, with
    a warning naming them.
    """
    v = deals.visits
    first = v.groupby("deal").first()
    span = max(deals.until, 1.0)
    starts_later = int((first["stage"] > 0).sum())
    if starts_later:
        notes.append(
            _("{n} deals start after know; the scenario starts every prospect at know").format(
                n=starts_later
            )
        )
    if "source" not in deals.columns:
        notes.append(_("no source column: all deals counted as organic arrivals"))
        return [ChannelFit("organic", "organic", len(first), poisson_rate(len(first), span))]
    counts: dict[tuple[str, str], int] = {}
    originals: dict[str, dict[str, str]] = {}
    for source, n in first["source"].value_counts().sort_index().items():
        channel = channel_of(source, mapping)
        if channel[1] == "paid":  # sources that read alike become one paid channel
            originals.setdefault(channel[0], {}).setdefault(
                source.strip().casefold(), source.strip()
            )
        counts[channel] = counts.get(channel, 0) + int(n)
    warnings += _merged_sources(originals)
    out = [ChannelFit(name, kind, n, poisson_rate(n, span)) for (name, kind), n in counts.items()]
    if any(c.kind == "paid" for c in out):
        notes.append(
            _(
                "paid channels: costs are not in the export, so cost_per_prospect is 1 and "
                "budget_per_month counts prospects a month; set both to price them"
            )
        )
    return out


def _merged_sources(originals: dict[str, dict[str, str]]) -> list[str]:
    """A note for each paid channel made of sources written differently."""
    return [
        _(
            "sources {sources} read alike and are counted as one paid channel, {channel}; if "
            "they are different channels, name them apart in the export"
        ).format(sources=", ".join(f"'{s}'" for s in names.values()), channel=channel)
        for channel, names in originals.items()
        if len(names) > 1
    ]
