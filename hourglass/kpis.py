"""The KPI registry: each KPI's label (English, Russian), unit, format, kind and better direction.

The CLI, the dashboard, comparisons and the optimiser read KPIs from here and spell none of
them again. Shares and rates change in their own units (percentage points for shares);
counts, money and durations change in percent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

from hourglass.i18n import _, get_language, grouped, significant


class Kind(StrEnum):
    """What a KPI measures, which decides how two values of it compare."""

    COUNT = "count"
    MONEY = "money"
    DURATION = "duration"
    RATE = "rate"
    SHARE = "share"


class Better(StrEnum):
    """Which way a KPI improves."""

    UP = "up"
    DOWN = "down"
    NEITHER = "neither"


MISSING = "-"
"""How a value that does not exist (no sellers, no baseline) is written."""

RELATIVE_KINDS = frozenset({Kind.COUNT, Kind.MONEY, Kind.DURATION})
"""Kinds whose changes read in percent of the baseline; the others change in their own units."""

KIND_BOUNDS = {
    Kind.COUNT: (0.0, math.inf),
    Kind.MONEY: (0.0, math.inf),
    Kind.DURATION: (0.0, math.inf),
    Kind.RATE: (0.0, math.inf),
    Kind.SHARE: (0.0, 1.0),
}
"""The values a KPI of each kind can take."""

_SPEC = re.compile(
    r"(?P<before>.*?)\{:(?P<sign>\+)?(?P<group>,)?(?:\.(?P<digits>\d+))?(?P<kind>[fg%])\}(?P<after>.*)",
    re.DOTALL,
)
"""A Python number format of one field: sign, thousands, decimals; fixed, general or percent."""


def written(value: float, fmt: str) -> str:
    """A number in a Python format ("{:,.1f}", "{:+.1%}"), as the active language writes it.

    English is the format itself (12,345.6); Russian groups thousands with a no-break space
    and writes a decimal comma (12 345,6), and a percent sign after a no-break space.
    """
    spec = _SPEC.fullmatch(fmt)
    if get_language() == "en" or spec is None or not math.isfinite(value):
        return fmt.format(value)
    if spec["kind"] == "g":
        return spec["before"] + significant(value, int(spec["digits"] or 6)) + spec["after"]
    percent = spec["kind"] == "%"
    text = grouped(
        value * 100 if percent else value,
        int(spec["digits"] or 6),
        sign=bool(spec["sign"]),
        grouping=bool(spec["group"]),
    )
    return spec["before"] + text + ("\u00a0%" if percent else "") + spec["after"]


@dataclass(frozen=True)
class Kpi:
    """One KPI: how it is named, written and judged."""

    name: str
    label_en: str
    label_ru: str
    kind: Kind
    fmt: str
    better: Better = Better.UP
    unit: str = ""
    """What one unit of it is: people, purchases, money, days, or '' for a plain number."""
    bounds: tuple[float, float] | None = None
    """The least and most the KPI can be, where its kind's (`KIND_BOUNDS`) do not hold."""

    def label(self, language: str = "en") -> str:
        """The KPI's name as people read it, in `language` (en or ru)."""
        return self.label_ru if language == "ru" else self.label_en

    def format(self, value: float | None, *, compact: bool = False) -> str:
        """The value as people read it; `compact` shortens millions so that it fits a column."""
        if value is None or not math.isfinite(value):
            return MISSING
        if compact and self.kind in RELATIVE_KINDS and abs(value) >= 1e6:
            return _("{amount}M").format(amount=written(value / 1e6, "{:,.2f}"))
        return written(value, self.fmt)

    @property
    def relative(self) -> bool:
        """Whether a change reads in percent of the baseline (else in the KPI's own units)."""
        return self.kind in RELATIVE_KINDS

    def format_delta(self, delta: float, base: float) -> str:
        """A change from `base`: percent for counts, money and days; points for shares."""
        if not math.isfinite(delta):
            return MISSING
        if self.relative:
            return written(delta / abs(base), "{:+.1%}") if base else MISSING
        if self.kind is Kind.SHARE:
            return _("{points} pp").format(points=written(delta * 100, "{:+.1f}"))
        return written(delta, self.fmt.replace("{:", "{:+", 1))

    def format_interval(self, low: float, high: float, base: float) -> str:
        """A change's 95% interval in the units of `format_delta`, within the KPI's bounds.

        The interval of a mean change is symmetric, so near a bound it can reach past it
        (a count 103% lower); it is cut at the most the KPI can change from `base`.
        """
        if not (math.isfinite(low) and math.isfinite(high)):
            return MISSING
        least, most = (edge - base for edge in self.bounds or KIND_BOUNDS[self.kind])
        low, high = max(low, least), min(high, most)
        return _("{low} to {high}").format(
            low=self.format_delta(low, base), high=self.format_delta(high, base)
        )

    def is_improvement(self, delta: float) -> bool | None:
        """Whether a change of `delta` is better (None where neither way is)."""
        if self.better is Better.NEITHER or not math.isfinite(delta) or delta == 0:
            return None
        return (delta > 0) == (self.better is Better.UP)


_KPIS = (
    Kpi("prospects", "Prospects", "Потенциальные клиенты", Kind.COUNT, "{:,.0f}", unit="people"),
    Kpi(
        "outside_prospects",
        "Prospects from outside",
        "Потенциальные клиенты извне",
        Kind.COUNT,
        "{:,.0f}",
        unit="people",
    ),
    Kpi(
        "referred_prospects",
        "Referred prospects",
        "Пришли по рекомендации",
        Kind.COUNT,
        "{:,.0f}",
        unit="people",
    ),
    Kpi("buyers", "Buyers", "Покупатели", Kind.COUNT, "{:,.0f}", unit="people"),
    Kpi(
        "referred_buyers",
        "Referred buyers",
        "Покупатели по рекомендации",
        Kind.COUNT,
        "{:,.0f}",
        unit="people",
    ),
    Kpi(
        "customers_end",
        "Customers at the end",
        "Клиенты на конец периода",
        Kind.COUNT,
        "{:,.0f}",
        unit="people",
    ),
    Kpi(
        "repeat_purchases",
        "Repeat purchases",
        "Повторные покупки",
        Kind.COUNT,
        "{:,.0f}",
        unit="purchases",
    ),
    Kpi("revenue", "Revenue", "Выручка", Kind.MONEY, "{:,.0f}", unit="money"),
    Kpi("cost", "Cost", "Затраты", Kind.MONEY, "{:,.0f}", Better.DOWN, unit="money"),
    Kpi(
        "profit",
        "Profit",
        "Прибыль",
        Kind.MONEY,
        "{:,.0f}",
        unit="money",
        bounds=(-math.inf, math.inf),
    ),
    Kpi("cac", "CAC", "Стоимость привлечения (CAC)", Kind.MONEY, "{:,.2f}", Better.DOWN, "money"),
    Kpi("ltv", "LTV", "Ценность клиента (LTV)", Kind.MONEY, "{:,.2f}", unit="money"),
    # LTV over CAC: how many times a buyer's margin pays back what winning them cost
    Kpi("ltv_cac", "LTV:CAC", "Отношение LTV:CAC", Kind.RATE, "{:,.2f}"),
    # margin on revenue less costs, over costs: a rate that reaches -100% and has no top
    Kpi("roi", "ROI", "ROI", Kind.SHARE, "{:+.1%}", bounds=(-1.0, math.inf)),
    Kpi(
        "payback_days",
        "Payback",
        "Окупаемость",
        Kind.DURATION,
        "{:,.0f}",
        Better.DOWN,
        unit="days",
    ),
    Kpi("referral_share", "Referral share", "Доля рекомендаций", Kind.SHARE, "{:.1%}"),
    Kpi("k_factor", "K-factor", "K-фактор", Kind.RATE, "{:.3f}"),
    Kpi(
        "referral_contacts",
        "Referral contacts",
        "Рекомендательные контакты",
        Kind.COUNT,
        "{:,.0f}",
        unit="contacts",
    ),
    Kpi(
        "seller_utilization",
        "Seller utilisation",
        "Загрузка продавцов",
        Kind.SHARE,
        "{:.1%}",
        Better.NEITHER,
    ),
    Kpi(
        "mean_wait_days",
        "Mean wait for a seller",
        "Среднее ожидание продавца",
        Kind.DURATION,
        "{:.2f}",
        Better.DOWN,
        unit="days",
    ),
    Kpi(
        "lost_waiting",
        "Leads lost to waiting",
        "Лиды, потерянные в ожидании",
        Kind.COUNT,
        "{:,.0f}",
        Better.DOWN,
        unit="people",
    ),
    Kpi(
        "follow_ups_missed",
        "Follow-ups missed",
        "Пропущенные контакты после продажи",
        Kind.COUNT,
        "{:,.0f}",
        Better.DOWN,
        unit="follow-ups",
    ),
    Kpi(
        "leads_to_sellers",
        "Leads to sellers",
        "Лиды, переданные продавцам",
        Kind.COUNT,
        "{:,.0f}",
        unit="people",
    ),
)

_PER_CHANNEL = {"cac_": "cac", "ltv_cac_": "ltv_cac", "ltv_": "ltv"}
"""KPIs given per channel (cac_ads ...): the prefix and the KPI each one follows.

The first prefix that matches wins, so `ltv_cac_` comes before `ltv_`.
"""


class Registry:
    """The KPIs by name; per-channel KPIs (`cac_<channel>`, `ltv_<channel>`) follow their family."""

    def __init__(self, kpis: tuple[Kpi, ...]) -> None:
        self._kpis = {k.name: k for k in kpis}

    def __getitem__(self, name: str) -> Kpi:
        if name in self._kpis:
            return self._kpis[name]
        for prefix, family in _PER_CHANNEL.items():
            if name.startswith(prefix):
                channel = name.removeprefix(prefix)
                base = self._kpis[family]
                return replace(
                    base,
                    name=name,
                    label_en=f"{base.label_en} ({channel})",
                    label_ru=f"{base.label_ru} ({channel})",
                )
        raise KeyError(f"unknown KPI '{name}'")

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[Kpi]:
        return iter(self._kpis.values())

    def names(self) -> tuple[str, ...]:
        """The registered KPIs' names, in the order a report lists them."""
        return tuple(self._kpis)


KPIS = Registry(_KPIS)
"""Every KPI a run reports."""

HEADLINE = ("buyers", "revenue", "profit", "cac", "ltv", "roi", "referral_share", "k_factor")
"""The KPIs a comparison leads with."""
PROFIT_FIRST = (
    "profit",
    "payback_days",
    "roi",
    "buyers",
    "revenue",
    "cac",
    "ltv",
    "referral_share",
)
"""The KPIs a marketer's change leads with: what it earns and how soon it pays back."""
