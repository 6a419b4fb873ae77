"""My business takes how long its customers have been customers, and its estimates count them."""

from __future__ import annotations

import math

import pytest

from hourglass.config.business import Business
from hourglass.config.scenario import parse_scenario_text
from hourglass.stages import DAYS_PER_MONTH
from hourglass.theory import expected_outcome
from tests.test_dashboard import open_page, shown

STARTING, MONTHS = 1200, 12
REPEATS, DROPOUT = Business().repeats_per_month, Business().dropout_prob
STILL_BUYING = STARTING * math.exp(-REPEATS * DROPOUT * MONTHS)  # 837.3


@pytest.mark.parametrize(
    ("lang", "label", "caption"),
    [
        (
            "en",
            "Months they have been customers",
            "It counts the 1,200 customers you already have: after 12 months 837 of them still "
            "buy on the start date, the others have stopped.",
        ),
        (
            "ru",
            "Стаж клиентов, мес.",
            "В ней учтены клиенты, которые у вас уже есть (1\u00a0200): спустя 12 мес. из них "  # noqa: RUF001
            "на дату начала ещё покупают 837, остальные перестали.",
        ),
    ],
)
def test_the_form_takes_the_customers_tenure_and_says_how_many_still_buy(lang, label, caption):
    at = open_page("business", language=lang)
    at.number_input(key="biz-starting").set_value(STARTING)
    field = at.number_input(key="biz-tenure")
    assert field.label == label
    assert field.value == 0.0
    field.set_value(float(MONTHS))
    at.button[0].click().run()
    assert not at.exception and not at.error
    made = parse_scenario_text(at.session_state["library"][at.selectbox(key="chosen").value])
    assert made.starting_customers.count == STARTING
    assert made.starting_customers.months_as_customers == MONTHS
    assert round(STILL_BUYING) == 837
    assert caption in [shown(c.value) for c in at.caption]


def test_the_quick_estimate_counts_the_customers_a_business_has():
    """Without new prospects, customers at the end: those still buying, less the drop-outs."""
    quiet = Business(
        paid=(),
        organic_per_month=0.0,
        referral_contacts_per_month=0.0,
        starting_customers=STARTING,
        months_as_customers=MONTHS,
    )
    scenario = quiet.to_scenario()
    months = scenario.horizon_days / DAYS_PER_MONTH
    ends = STILL_BUYING * math.exp(-REPEATS * DROPOUT * months)
    assert expected_outcome(scenario)["customers_end"] == pytest.approx(ends, rel=1e-6)
    assert expected_outcome(Business(paid=(), organic_per_month=0.0).to_scenario())[
        "customers_end"
    ] == pytest.approx(0.0, abs=1e-9)
