"""The calibration report: what was estimated with 95% intervals, what was skipped and why."""

from __future__ import annotations

import math

from hourglass.analysis.intervals import Estimate
from hourglass.calibration.fit import Calibration
from hourglass.config.gaps import Gap, gap_text
from hourglass.i18n import _
from hourglass.markdown import inert


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _ci(e: Estimate, percent: bool = False) -> str:
    if percent:
        if not math.isfinite(e.value):
            return "n/a"
        return f"{e.value:.1%} [{e.low:.1%}, {e.high:.1%}]"
    return f"{_num(e.value)} [{_num(e.low)}, {_num(e.high)}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def report_markdown(cal: Calibration) -> str:
    """The report as Markdown text."""
    out = [
        f"# Calibration report: {cal.name}",
        "",
        f"Calibration period: {cal.origin:%Y-%m-%d} to {cal.until_date:%Y-%m-%d} "
        f"({cal.until_days:,.1f} days). Intervals are 95%.",
    ]
    if cal.warnings:
        out += ["", "## Warnings", ""] + [f"- {inert(warning)}" for warning in cal.warnings]
    gaps = cal.scenario_data().get("not_estimated", [])
    if gaps:
        said = [f"- {inert(gap_text(Gap.model_validate(g)))}" for g in gaps]
        out += ["", _("## Not estimated from the data"), "", *said]
    funnel = (_stages, _by_source, _arrivals_and_sellers, _word_of_mouth)
    funnel = funnel if cal.deals is not None else ()
    for section in (_data_read, *funnel, _repeat_buying, _order_value):
        out += section(cal)
    out += ["", "## Skipped or assumed", ""]
    out += [f"- {inert(note)}" for note in cal.notes] or ["- nothing"]
    return "\n".join(out) + "\n"


def _data_read(cal: Calibration) -> list[str]:
    """Rows read, used, skipped and set aside, per file."""
    out = ["", "## Data read", ""]
    for skipped in cal.skipped_rows:
        aside = cal.set_aside.get(skipped.file, 0)
        used = skipped.rows - skipped.count - aside
        read_as = (
            f" (read as {skipped.encoding})" if skipped.encoding not in ("text", "table") else ""
        )
        out.append(
            f"- {inert(skipped.file)}{read_as}: {skipped.rows:,} rows; {used:,} used, "
            f"{skipped.count:,} skipped, {aside:,} after the calibration period kept out of the "
            "fit for checking."
        )
        out += [f"  - {inert(line)}" for line in skipped.lines()]
    return out


def _stages(cal: Calibration) -> list[str]:
    """Each stage's pass probability and time in stage; the loss reasons' shares."""
    rows = []
    for s in cal.stages:
        d = s.duration
        fits = " / ".join(f"{d.loglik[f]:,.1f}" for f in d.loglik) if d else "n/a"
        rows.append(
            [
                s.stage,
                f"{s.visits:,}",
                f"{s.passed:,}",
                f"{s.lost:,}",
                f"{s.open:,}",
                _ci(s.pass_prob, percent=True),
                d.family if d else "not fitted",
                _ci(d.mean_days) if d else "n/a",
                f"{d.cv:.3g}" if d else "n/a",
                fits,
            ]
        )
    out = ["", "## Stages", ""]
    out += _table(
        [
            "stage",
            "visits",
            "passed",
            "lost",
            "open",
            "pass probability",
            "time in stage",
            "mean days",
            "cv",
            "log-likelihood: exponential / gamma / lognormal",
        ],
        rows,
    )
    out += [
        "",
        "Pass probability: Aalen-Johansen cumulative incidence of passing over that of "
        "passing or being lost, with open visits right-censored; interval by Poisson "
        "bootstrap. Time in stage: censored maximum likelihood, the family with the lowest "
        "AIC; interval on the mean from the observed information.",
    ]
    reasons = [
        [s.stage, inert(reason), _ci(e, percent=True)]
        for s in cal.stages
        for reason, e in s.loss_reasons.items()
    ]
    if reasons:
        out += ["", "## Loss reasons (share of each stage's losses)", ""]
        out += _table(["stage", "reason", "share"], reasons)
    return out


def _by_source(cal: Calibration) -> list[str]:
    """Each stage's pass probability per channel, and the p-value of their difference."""
    rows = [
        [
            s.stage,
            inert(name),
            f"{f.passed:,}",
            f"{f.lost:,}",
            f"{f.open:,}",
            _ci(f.pass_prob, percent=True),
            "" if s.source_difference is None else f"{s.source_difference:.3g}",
        ]
        for s in cal.stages
        for name, f in s.by_source.items()
    ]
    if not rows:
        return []
    out = ["", _("## Pass probability per channel"), ""]
    out += _table(
        [
            _("stage"),
            _("channel"),
            _("passed"),
            _("lost"),
            _("open"),
            _("pass probability"),
            _("p (channels alike)"),
        ],
        rows,
    )
    return [
        *out,
        "",
        _(
            "p (channels alike): a Wald test of homogeneity on the channels' pass "
            "probabilities, each estimated with open visits censored; a small p says the "
            "channels pass the stage differently."
        ),
    ]


def _arrivals_and_sellers(cal: Calibration) -> list[str]:
    """New deals per day per channel; each seller's pass probability per stage."""
    out = ["", "## Arrivals per channel (new deals per day)", ""]
    out += _table(
        ["channel", "kind", "deals", "per day"],
        [[inert(c.channel), c.kind, f"{c.deals:,}", _ci(c.per_day)] for c in cal.channels],
    )
    return out + _sellers(cal)


def _sellers(cal: Calibration) -> list[str]:
    """Each seller's pass probability per stage, against the rest of the team."""
    if not cal.sellers:
        return []
    rows = []
    for seller in cal.sellers:
        for stage, s in seller.stages.items():
            diff, alike = s.versus_rest, cal.sellers_alike_p.get(stage)
            rows.append(
                [
                    inert(seller.seller),
                    stage,
                    f"{s.fit.passed:,}",
                    f"{s.fit.lost:,}",
                    f"{s.fit.open:,}",
                    _ci(s.fit.pass_prob, percent=True),
                    "" if diff is None else _signed(diff),
                    "" if s.p_value is None else f"{s.p_value:.3g}",
                    _verdict(s.verdict),
                    "" if alike is None else f"{alike:.3g}",
                ]
            )
    out = ["", _("## Pass probability per seller"), ""]
    out += _table(
        [
            _("seller"),
            _("stage"),
            _("passed"),
            _("lost"),
            _("open"),
            _("pass probability"),
            _("minus the rest"),
            _("p (Holm)"),
            _("verdict"),
            _("p (sellers alike)"),
        ],
        rows,
    )
    return [
        *out,
        "",
        _(
            "Each seller's deals (the seller last named on a deal) with the stages' estimator: "
            "open visits are right-censored, not dropped. Minus the rest: the seller's pass "
            "probability minus the rest of the team's, with a 95% interval; p (Holm): its "
            "p-value adjusted for every seller and stage tested; a seller is better or worse "
            "where it is below 0.05. p (sellers alike): a Wald test of homogeneity on the "
            "sellers' pass probabilities."
        ),
    ]


def _signed(e: Estimate) -> str:
    return f"{e.value:+.1%} [{e.low:+.1%}, {e.high:+.1%}]"


def _verdict(verdict: str) -> str:
    """A seller's verdict at a stage, in the reader's language."""
    return {
        "better": _("better"),
        "worse": _("worse"),
        "alike": _("alike"),
        "untested": _("untested"),
    }[verdict]


def _word_of_mouth(cal: Calibration) -> list[str]:
    """The referral rate per customer-month and the boost per stage."""
    fit = cal.referral
    if fit is None:
        return []
    base = _("the transaction log") if fit.base == "transactions" else _("the deals won")
    rate = (
        _ci(fit.rate) if fit.rate is not None else _("not estimated: {why}").format(why=fit.why_not)
    )
    out = [
        "",
        _("## Word of mouth"),
        "",
        _(
            "{referred} of {deals} deals came by referral ({share}); {customers} customers "
            "(from {base}) over {months} customer-months. Referred deals per customer-month "
            "(contacts times the chance a contact comes): {rate}."
        ).format(
            referred=f"{fit.referred:,}",
            deals=f"{fit.deals:,}",
            share=_ci(fit.share, percent=True),
            customers=f"{fit.customers:,}",
            base=base,
            months=f"{fit.customer_months:,.1f}",
            rate=rate,
        ),
    ]
    rows = [
        [
            stage,
            _ci(b.referred, percent=True),
            _ci(b.others, percent=True),
            _ci(b.ratio),
            f"{b.p_value:.3g}",
            _("yes") if b.significant else _("no"),
        ]
        for stage, b in fit.boosts.items()
    ]
    if rows:
        out += [
            "",
            *_table(
                [_("stage"), _("referred"), _("others"), _("boost"), _("p (Holm)"), _("written")],
                rows,
            ),
        ]
    return out


def _repeat_buying(cal: Calibration) -> list[str]:
    """BG/NBD's parameters and the check on the rows kept out."""
    out: list[str] = []
    if cal.repeat is not None:
        rep = cal.repeat
        out += [
            "",
            f"## Repeat buying (BG/NBD, time in periods of {rep.period_days:g} days)",
            "",
            f"{rep.customers:,} customers, {rep.repeats:,} repeat purchases (a day's purchases "
            f"count as one); log-likelihood {rep.loglik:,.2f}.",
            "",
        ]
        out += _table(
            ["parameter", "estimate [95% CI]"],
            [[k, _ci(getattr(rep, k))] for k in ("r", "alpha", "a", "b")],
        )
    if cal.holdout is not None:
        h = cal.holdout
        out += [
            "",
            f"Check on the rows kept out: from {h.until:%Y-%m-%d} to {h.end:%Y-%m-%d} these "
            f"customers bought again {h.actual:,} times; BG/NBD expects {h.expected:,.0f} "
            f"({h.error:+.1%}).",
        ]
    return out


def _order_value(cal: Calibration) -> list[str]:
    """Gamma-Gamma's parameters, if fitted."""
    if cal.spend is None:
        return []
    sp = cal.spend
    out = [
        "",
        "## Order value (Gamma-Gamma)",
        "",
        f"{sp.customers:,} customers with repeat purchases (the mean of their repeat "
        f"purchases); mean order value {_num(sp.mean_spend)}, cv {_num(sp.spend_cv)}.",
        "",
    ]
    out += _table(
        ["parameter", "estimate [95% CI]"],
        [[k, _ci(getattr(sp, k))] for k in ("p", "q", "v")],
    )
    return out
