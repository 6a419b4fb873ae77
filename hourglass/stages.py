"""The stage vocabulary: customer stages, seller stages, loyalty classes and their labels."""

from __future__ import annotations

from typing import Literal

from hourglass.i18n import _, get_language

FUNNEL: tuple[str, ...] = ("know", "like", "trust", "try", "buy")
"""Customer stages before and at the sale, in order; each has a pass probability."""

HOURGLASS: tuple[str, ...] = (*FUNNEL, "repeat", "refer")
"""All seven customer stages: the funnel, then the widening lower half."""

SELLER_STAGES: tuple[str, ...] = (
    "explore",
    "collaborate",
    "design",
    "define",
    "deliver",
    "measure",
    "engage",
)
"""Seller stages, each beside the customer stage at the same position in HOURGLASS."""

SELLER_BESIDE: dict[str, str] = dict(zip(SELLER_STAGES, HOURGLASS, strict=True))
"""Seller stage -> the customer stage it works beside."""

LOYALTY_CLASSES: tuple[str, ...] = (
    "one_time",
    "regular",
    "loyal",
    "committed",
    "fan",
    "temporarily_lost",
    "former",
    "antagonist",
)
"""Classes a customer moves through after the first purchase ("potential" is a prospect)."""

ACTIVE_CLASSES: frozenset[str] = frozenset({"one_time", "regular", "loyal", "committed", "fan"})
"""Classes whose members still buy; the others have lapsed, left or turned against us."""

StageName = Literal["know", "like", "trust", "try", "buy"]
LabelSet = Literal["en", "ru", "seven_en", "seven_ru"]
SellerStageName = Literal[
    "explore", "collaborate", "design", "define", "deliver", "measure", "engage"
]
LoyaltyClass = Literal[
    "one_time", "regular", "loyal", "committed", "fan", "temporarily_lost", "former", "antagonist"
]

DEFAULT_LOSS_REASON: dict[str, str] = {
    "know": "not_interested",
    "like": "no_action",
    "trust": "not_convinced",
    "try": "trial_disappointed",
    "buy": "lost_to_competitor",
}
"""Why a prospect leaves each stage when the scenario names no reasons (DOMAIN.md §1)."""

WENT_COLD = "went_cold"
"""Loss reason of a lead that waited longer than its patience for a seller."""

DISQUALIFIED = "disqualified"
"""Loss reason of a lead that early qualification turned away fast."""

CHURNED = "churned"
"""Loss reason at repeat: a customer who bought again lapsed before bringing anyone."""

LOST_IN_FUNNEL = "lost_in_funnel"
"""Loss reason at refer: a referred prospect left the funnel (its stage's row says why)."""

REPEAT_AND_REFER = {
    "repeat": "customers who bought again: people, each once, from their second purchase "
    "(customers from before day 0: from their first purchase in the run)",
    "refer": "prospects that customers brought: people who entered Know through a referral",
}
"""What the lower half counts, the same in the CLI's report, `run --json` and the dashboard.

Both count people, as the funnel above does, so the seven stages share one scale. Refer counts
the prospects brought rather than the customers who brought them: one customer may bring many,
and that is how the hourglass widens again below the waist (K-factor is this over buyers).
A repeat customer passes on to Refer by bringing a prospect; a referred prospect passes Refer
by buying.
"""

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "know": "Know",
        "like": "Like",
        "trust": "Trust",
        "try": "Try",
        "buy": "Buy",
        "repeat": "Repeat",
        "refer": "Refer",
    },
    "ru": {
        "know": "Знать",
        "like": "Нравиться",
        "trust": "Доверять",
        "try": "Попробовать",
        "buy": "Купить",
        "repeat": "Повторить",
        "refer": "Рекомендовать",
    },
    "seven_en": {
        "know": "Reach",
        "like": "Capture",
        "trust": "Warm-up",
        "try": "Deal: trial",
        "buy": "Deal",
        "repeat": "Repeat sales",
        "refer": "Word of mouth",
    },
    "seven_ru": {
        "know": "Охват",
        "like": "Захват",
        "trust": "Разогрев",
        "try": "Сделка: проба",
        "buy": "Сделка",
        "repeat": "Повторные продажи",
        "refer": "Сарафанное радио",
    },
}
"""Stage labels: Jantsch's seven stages (en, ru) and K. Alekseev's variant (seven_en, seven_ru).

Alekseev's "Loyalty" stage has no twin among Jantsch's: it is the loyalty classes after the sale.
"""

DAYS_PER_MONTH = 365.25 / 12
"""Rates given per month are divided by this to get rates per day."""

REFUSED_BY = "refused_by_"
"""Loss reasons of deals a committee role turned down: this prefix and the role's name."""


def reason_label(reason: str) -> str:
    """A loss reason in the reader's language: the shipped ones translated, others as written."""
    if reason.startswith(REFUSED_BY):
        return _("refused by the {role}").format(role=role_label(reason.removeprefix(REFUSED_BY)))
    names = {
        "not_interested": _("not interested"),
        "no_action": _("took no action"),
        "not_convinced": _("not convinced"),
        "trial_disappointed": _("disappointed by the trial"),
        "lost_to_competitor": _("lost to a competitor"),
        "price": _("price"),
        "timing": _("timing"),
        "no_budget": _("no budget"),
        WENT_COLD: _("went cold waiting for a seller"),
        DISQUALIFIED: _("disqualified"),
        CHURNED: _("lapsed"),
        LOST_IN_FUNNEL: _("lost in the funnel"),
    }
    return names.get(reason, reason.replace("_", " "))


def role_label(role: str) -> str:
    """A buying-committee role in the reader's language: the shipped ones translated."""
    names = {
        "purchaser": _("purchaser"),
        "gatekeeper": _("gatekeeper"),
        "user": _("user"),
        "expert": _("expert"),
        "guru": _("guru"),
        "treasurer": _("treasurer"),
        "big_boss": _("big boss"),
    }
    return names.get(role, role.replace("_", " "))


def channel_label(channel: str) -> str:
    """A channel in the reader's language: the built-in and shipped ones translated."""
    names = {
        "organic": _("organic"),
        "referral": _("referral"),
        "social_selling": _("social selling"),
        "ads": _("ads"),
        "display_ads": _("display ads"),
        "search_ads": _("search ads"),
        "trade_shows": _("trade shows"),
    }
    return names.get(channel, channel.replace("_", " "))


def stage_word(stage: str) -> str:
    """A stage named in a sentence: the scenario's own name in English, the label otherwise."""
    return LABELS.get(get_language(), {}).get(stage, stage) if get_language() != "en" else stage
