"""The parts of a scenario its data could not estimate, kept as keys and read in any language.

A calibration writes each part it could not estimate as a key with the data its sentence
needs (`Gap`), so a scenario calibrated in one language reads in the reader's. Hand-written
notes (plain text) are kept as they are.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ValidationError, model_validator

from hourglass.config.base import Model, did_you_mean
from hourglass.i18n import _, ngettext
from hourglass.stages import stage_word

Part = Literal[
    "funnel", "pass_prob", "duration", "repeat", "word_of_mouth", "market", "order_value",
    "paid_costs", "team",
]  # fmt: skip
WhyNoWordOfMouth = Literal["few_referrals", "no_customers", "no_referrals"]


class Gap(Model):
    """One part a calibration could not estimate, and the data its sentence names."""

    part: Part
    stage: str | None = None
    """The funnel stage (pass_prob and duration)."""
    why: WhyNoWordOfMouth | None = None
    """Why word of mouth was not estimated."""
    count: int | None = None
    """Referred deals found (few_referrals)."""
    least: int | None = None
    """Referred deals needed (few_referrals)."""
    leads: int | None = None
    """Leads a seller may hold at once (team)."""
    headroom: int | None = None
    """How many times the most deals a seller held at once that is (team)."""
    shares: dict[str, float] | None = None
    """Each seller's share of the deals in the data, which the scenario routes by (team)."""

    @model_validator(mode="after")
    def _has_its_data(self) -> Gap:
        needed = {
            "pass_prob": ("stage",),
            "duration": ("stage",),
            "team": ("leads", "headroom"),
            "word_of_mouth": ("count", "least") if self.why == "few_referrals" else (),
        }.get(self.part, ())
        missing = [key for key in needed if getattr(self, key) is None]
        if missing:
            raise ValueError(
                _("{key}: required, but missing (part: {part}{why})").format(
                    key=missing[0], part=self.part, why=f", why: {self.why}" if self.why else ""
                )
            )
        return self

    def text(self) -> str:
        """The part, why the data left it out and what the scenario assumes, in words."""
        return _SENTENCES[self.part](self)


def gap_entry(value: Any) -> Any:
    """A `not_estimated` entry read as its `Gap` where it is a mapping, said wrong once.

    Left to the union of text and Gap, a wrong key would also be called "not a string".
    """
    if not isinstance(value, dict):
        return value
    try:
        return Gap.model_validate(value)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        ctx = first.get("ctx") or {}
        if first["type"] == "literal_error":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            message = _("'{value}' is not one of {choices}").format(
                value=first["input"], choices=", ".join(choices)
            ) + did_you_mean(str(first["input"]), choices)
        elif first["type"] == "missing":
            message = _("required, but missing")
        else:
            message = str(ctx.get("error", first["msg"])).removeprefix("Value error, ")
        raise ValueError(f"{where}: {message}" if where else message) from None


def why_no_word_of_mouth(why: WhyNoWordOfMouth, count: int = 0, least: int = 0) -> str:
    """Why the referral rate was not estimated, in words."""
    if why == "few_referrals":
        return ngettext(
            "only {count} referred deal; at least {least} needed",
            "only {count} referred deals; at least {least} needed",
            count,
        ).format(count=count, least=least)
    if why == "no_customers":
        return _("no customer bought before the end of the period")
    return _("no referred deal")


def gap_text(entry: str | Gap) -> str:
    """A scenario's `not_estimated` entry in the reader's language (hand-written: as written)."""
    return entry if isinstance(entry, str) else entry.text()


def gap_records(entries: list[str | Gap] | None) -> list[str | dict[str, Any]]:
    """The entries as plain data for machine output: keys and their data, or the text given."""
    return [e if isinstance(e, str) else e.model_dump(exclude_none=True) for e in entries or []]


_SENTENCES = {
    "funnel": lambda g: _(
        "the funnel and arrivals: no deal history was given; the scenario has no arrivals"
    ),
    "pass_prob": lambda g: _(
        "{stage}: the pass probability (no visit to the stage was decided); "
        "the scenario lets everyone pass"
    ).format(stage=stage_word(g.stage)),
    "duration": lambda g: _(
        "{stage}: the time in stage (too few visits left it at a known time, or "
        "its fit had no finite mean); the scenario uses 0 days"
    ).format(stage=stage_word(g.stage)),
    "repeat": lambda g: _(
        "repeat buying (no transaction log, or too few repeat purchases in it); the "
        "scenario has no repeat purchases"
    ),
    "word_of_mouth": lambda g: _(
        "word of mouth ({why}): referred deals are counted as organic arrivals and "
        "the scenario has no referral section"
    ).format(why=why_no_word_of_mouth(g.why or "no_referrals", g.count or 0, g.least or 0)),
    "market": lambda g: _(
        "the market's size (not in the data): word of mouth needs one, so the scenario "
        "has a market far larger than the deals; set it to your market's size"
    ),
    "order_value": lambda g: _(
        "order value (no transaction log); the scenario's orders are worth 0"
    ),
    "paid_costs": lambda g: _(
        "the paid channels' costs (not in the export): cost_per_prospect is 1 and "
        "budget_per_month counts prospects a month"
    ),
    "team": lambda g: _team(g),
}


def _team(gap: Gap) -> str:
    """The team's capacity, and its routing: by the sellers' shares where known, else in turn."""
    if gap.shares:
        shares = ", ".join(f"{name} {share:.0%}" for name, share in gap.shares.items())
        return _(
            "the sales team's capacity (not in the export): each seller may hold {leads} "
            "leads at once, {headroom} times the most deals a seller held at once in the "
            "data, so leads seldom wait for a seller beyond the stage times the data show; "
            "set it to your team's. Leads go to the sellers at random in their shares of "
            "the deals in the data: {shares}"
        ).format(leads=gap.leads, headroom=gap.headroom, shares=shares)
    return _(
        "the sales team's capacity and routing (not in the export): each seller may hold "
        "{leads} leads at once, {headroom} times the most deals a seller held at once in "
        "the data, so leads seldom wait for a seller beyond the stage times the data show, "
        "and leads go to the sellers in turn, each an equal share; set both to your team's"
    ).format(leads=gap.leads, headroom=gap.headroom)
