"""My business: a form instead of YAML; its scenario is checked, used on every page, downloaded."""

from __future__ import annotations

import datetime

import streamlit as st

import hourglass as hg
from hourglass.analysis.forecast import next_month_start
from hourglass.app import state, widgets
from hourglass.config.business import Business, PaidLine, Step
from hourglass.config.cohort import MAX_MONTHS_AS_CUSTOMERS, MAX_STARTING_CUSTOMERS
from hourglass.config.plan import compile_plan
from hourglass.i18n import _, language
from hourglass.kpis import KPIS, written
from hourglass.stages import FUNNEL, LABELS
from hourglass.theory_starting import still_buying

# Paid channels the form offers; a row without a name is left out.
CHANNEL_ROWS = 3
# The session's last answers: the form opens with them (widgets forget theirs off the page).
ANSWERS = "business-answers"
# The name of the scenario the form made last.
MADE = "business-made"
# What the form's check said, for the run after it: its kind and message.
TOLD = "business-told"
EXPECTED = ("buyers", "revenue", "customers_end")


def show(choice: state.Choice) -> None:
    """The form; once sent, what became of it: the scenario's expectation, or what is wrong."""
    st.header(_("My business"))
    st.caption(
        _(
            "Describe the business in plain numbers; the form makes a scenario of it, checks "
            "it and chooses it on every page. Download it as YAML to keep it."
        )
    )
    answers: Business = st.session_state.get(ANSWERS, Business())
    with st.form("business"):
        about(answers)
        channels(answers)
        stages(answers, choice.labels)
        after_sale(answers)
        st.form_submit_button(_("Check and use"), type="primary", on_click=take_form)
    kind, message = st.session_state.pop(TOLD, (None, None))
    if kind == "error":
        st.error(widgets.escape(message))
    made = st.session_state.get(MADE)
    if made in state.library():
        if kind == "success":
            st.success(widgets.escape(message))
        expectation(state.scenario_of(made), choice.language)


def about(answers: Business) -> None:
    """The scenario's name, its calendar and its market."""
    name, start, months, market = st.columns(4)
    name.text_input(_("Name (a-z, 0-9, _)"), answers.name, key="biz-name")
    first = answers.start_date or next_month_start(datetime.date.today())
    start.date_input(_("Start date"), first, key="biz-start")
    months.number_input(_("Months to simulate"), 1, 120, answers.months, key="biz-months")
    market.number_input(
        _("People in the market"), 1, 500_000_000, answers.market_size, key="biz-market"
    )


def channels(answers: Business) -> None:
    """Paid channels (name, money a month, and a cost per prospect or a reach curve); free ones."""
    st.subheader(_("Where prospects come from"))
    st.caption(
        _(
            "A channel buys prospects at a cost each, or along a reach curve: give the most "
            "prospects a month it can bring and the budget that brings half of them (then "
            "the cost per prospect is not used)."
        )
    )
    lines = [*answers.paid, *[PaidLine("", 0.0, 1.0)] * CHANNEL_ROWS][:CHANNEL_ROWS]
    for row, line in enumerate(lines):
        name, budget, cost, most, half = st.columns(5)
        name.text_input(_("Paid channel"), line.name, key=f"biz-channel-{row}")
        budget.number_input(
            _("Budget per month"),
            0.0,
            None,
            line.budget_per_month,
            100.0,
            format="%.0f",
            key=f"biz-budget-{row}",
        )
        cost.number_input(
            _("Cost per prospect"), 0.0, None, line.cost_per_prospect, 0.1, key=f"biz-cost-{row}"
        )
        most.number_input(
            _("Most prospects a month (0: no ceiling)"),
            0.0,
            None,
            line.most_prospects_per_month,
            100.0,
            format="%.0f",
            key=f"biz-most-{row}",
        )
        half.number_input(
            _("Budget for half of them"),
            0.0,
            None,
            line.half_reach_budget,
            100.0,
            format="%.0f",
            key=f"biz-half-{row}",
        )
    st.number_input(
        _("Free prospects per month (search, walk-ins)"),
        0.0,
        None,
        answers.organic_per_month,
        10.0,
        format="%.0f",
        key="biz-organic",
    )


def stages(answers: Business, labels: str) -> None:
    """Each funnel stage's pass rate and mean days."""
    st.subheader(_("Stages"))
    for stage in FUNNEL:
        name, rate, days = st.columns(3)
        name.markdown(f"**{LABELS[labels][stage]}**")
        step = answers.steps[stage]
        rate.number_input(
            _("Share who pass"), 0.0, 1.0, step.pass_rate, 0.05, key=f"biz-pass-{stage}"
        )
        days.number_input(_("Mean days"), 0.0, None, step.mean_days, 0.5, key=f"biz-days-{stage}")


def after_sale(answers: Business) -> None:
    """Sellers, orders, repeat purchases and referrals."""
    st.subheader(_("Sellers, orders, repeats and referrals"))
    one, two, three, four = st.columns(4)
    one.number_input(_("Sellers (0: none)"), 0, 100_000, answers.sellers, key="biz-sellers")
    two.number_input(
        _("Cost per seller per month"),
        0.0,
        None,
        answers.cost_per_seller_per_month,
        100.0,
        format="%.0f",
        key="biz-seller-cost",
    )
    three.number_input(_("Order value"), 0.0, None, answers.order_value, 10.0, key="biz-order")
    four.number_input(_("Margin"), 0.0, 1.0, answers.margin, 0.05, key="biz-margin")
    one, two, three, four = st.columns(4)
    one.number_input(
        _("Repeat purchases per customer per month"),
        0.0,
        None,
        answers.repeats_per_month,
        0.05,
        key="biz-repeats",
    )
    two.number_input(
        _("Chance to stop buying after a purchase"),
        0.0,
        1.0,
        answers.dropout_prob,
        0.05,
        key="biz-dropout",
    )
    three.number_input(
        _("People a customer tells a month"),
        0.0,
        None,
        answers.referral_contacts_per_month,
        0.1,
        key="biz-contacts",
    )
    four.number_input(
        _("Share of them who come"), 0.0, 1.0, answers.referral_win_prob, 0.05, key="biz-win"
    )
    count, months = st.columns(4)[:2]
    count.number_input(
        _("Customers you already have"),
        0,
        MAX_STARTING_CUSTOMERS,
        answers.starting_customers,
        100,
        key="biz-starting",
        help=_(
            "Customers who bought before the start date. From the first day they buy again "
            "and bring others as new customers do; they are counted among the customers, "
            "not as new buyers. 0: a business that starts with none."
        ),
    )
    months.number_input(
        _("Months they have been customers"),
        0.0,
        MAX_MONTHS_AS_CUSTOMERS,
        answers.months_as_customers,
        1.0,
        "%.1f",
        key="biz-tenure",
        help=_(
            "How long, on average, they have bought from you. Those who stopped buying in "
            "that time (at the repeat rate and the chance to stop above) start as lapsed "
            "customers: they neither buy nor bring anyone. 0: all of them still buy."
        ),
    )


def read_form() -> Business:
    """The answers the form holds now."""
    s = st.session_state
    paid = tuple(
        PaidLine(
            s[f"biz-channel-{r}"].strip(),
            s[f"biz-budget-{r}"],
            s[f"biz-cost-{r}"],
            s[f"biz-most-{r}"],
            s[f"biz-half-{r}"],
        )
        for r in range(CHANNEL_ROWS)
        if s[f"biz-channel-{r}"].strip()
    )
    return Business(
        name=s["biz-name"].strip(),
        start_date=s["biz-start"],
        months=int(s["biz-months"]),
        market_size=int(s["biz-market"]),
        paid=paid,
        organic_per_month=s["biz-organic"],
        steps={t: Step(s[f"biz-pass-{t}"], s[f"biz-days-{t}"]) for t in FUNNEL},
        sellers=int(s["biz-sellers"]),
        cost_per_seller_per_month=s["biz-seller-cost"],
        order_value=s["biz-order"],
        margin=s["biz-margin"],
        repeats_per_month=s["biz-repeats"],
        dropout_prob=s["biz-dropout"],
        referral_contacts_per_month=s["biz-contacts"],
        referral_win_prob=s["biz-win"],
        starting_customers=int(s["biz-starting"]),
        months_as_customers=float(s["biz-tenure"]),
    )


def take_form() -> None:
    """Make the scenario of the answers; choose it on every page, or say what is wrong."""
    answers = read_form()
    st.session_state[ANSWERS] = answers
    # a callback runs before the page sets the reader's language for this run
    with language(st.session_state.get("language", "en")):
        try:
            scenario = answers.to_scenario(source=_("the form"))
            name = state.add_scenario(scenario.to_yaml(), f"{scenario.name}.yaml")
        except hg.ScenarioError as err:
            st.session_state[TOLD] = ("error", str(err))
            return
        message = _(
            "'{name}' is valid and chosen on every page; the Planner shows it month by month."
        )
    st.session_state.chosen = name
    st.session_state[MADE] = name
    st.session_state[TOLD] = ("success", message.format(name=name))


def expectation(scenario: hg.Scenario, language: str) -> None:
    """What theory expects of the scenario at once, and its YAML to download."""
    st.subheader(
        _("What to expect over {days} days").format(days=written(scenario.horizon_days, "{:,.0f}"))
    )
    expected = hg.theory.expected_outcome(scenario, queues=True)
    for column, name in zip(st.columns(len(EXPECTED)), EXPECTED, strict=True):
        value = expected[name]
        column.metric(KPIS[name].label(language), KPIS[name].format(value, compact=True))
    st.caption(
        _(
            "An expectation from the rates, not a simulation: it takes the sellers' queues as "
            "steady month by month and leaves out antagonists."
        )
    )
    if scenario.starting_customers is not None:
        st.caption(starting_words(scenario))
    widgets.download(
        _("Download YAML"), scenario.to_yaml(), f"{scenario.name}.yaml", "application/yaml"
    )


def starting_words(scenario: hg.Scenario) -> str:
    """That the expectation counts the customers the business has, and how many still buy."""
    starting = scenario.starting_customers
    count = written(starting.count, "{:,.0f}")
    if not starting.months_as_customers:
        return _("It counts the {count} customers you already have.").format(count=count)
    return _(
        "It counts the {count} customers you already have: after {months} months {buying} of "
        "them still buy on the start date, the others have stopped."
    ).format(
        count=count,
        months=written(starting.months_as_customers, "{:g}"),
        buying=written(still_buying(compile_plan(scenario)), "{:,.0f}"),
    )


if __name__ == "__main__":
    show(state.choice())
