"""Column mappings of CRM exports: the models, the shipped defaults, mapping files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, Field, ValidationError

from hourglass.config.base import Model
from hourglass.config.loading import pydantic_message
from hourglass.i18n import _
from hourglass.stages import FUNNEL


class DataError(ValueError):
    """Data that cannot be calibrated from; the message says which file, rows, column and why."""


Target = Literal["know", "like", "trust", "try", "buy", "won", "lost"]
Outcome = Literal["won", "lost", "open"]
Header = Annotated[str, Field(min_length=1, max_length=200)]


def _strptime_format(fmt: str) -> str:
    """A date format that reads back what it writes, such as %d.%m.%Y."""
    sample = datetime(2001, 2, 3, 4, 5, 6)
    try:
        datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as e:
        raise ValueError(
            _("'{format}' is not a date format ({problem}); use one such as %d.%m.%Y").format(
                format=fmt, problem=e
            )
        ) from None
    return fmt


DateFormat = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_strptime_format)]


class DealColumns(Model):
    """Column names of a deal-stage history: one row per deal per stage."""

    deal: Header = "deal_id"
    stage: Header = "stage"
    entered: Header = "entered_at"
    left: Header | None = "left_at"
    outcome: Header | None = "outcome"
    source: Header | None = "source"
    loss_reason: Header | None = "loss_reason"
    seller: Header | None = "seller"
    stage_columns: bool = False
    """True for an export with one row per deal and a column per stage, named
    '<entered> <stage>' and '<left> <stage>' (HubSpot's 'Date entered "Stage (Pipeline)"');
    `stage` then names the stage column of the unpivoted table."""


class TransactionColumns(Model):
    """Column names of a transaction log: one row per purchase."""

    customer: Header = "customer_id"
    date: Header = "date"
    amount: Header = "amount"


class CrmMapping(Model):
    """How an export's columns and values map onto deals, stages and outcomes.

    `stages` maps the CRM's stage names onto know/like/trust/try/buy, or onto won/lost for
    closing stages; several CRM stages may map onto one. Values match case-insensitively.
    """

    deals: DealColumns = DealColumns()
    stages: dict[str, Target] = {name: name for name in (*FUNNEL, "won", "lost")}
    outcomes: dict[str, Outcome] = {"won": "won", "lost": "lost", "open": "open"}
    organic_sources: list[str] = ["organic", "seo", "search", "direct", "web"]
    referral_sources: list[str] = ["referral", "referrals", "recommendation"]
    transactions: TransactionColumns = TransactionColumns()
    date_format: DateFormat | None = None
    """The deal history's strptime format, such as %d.%m.%Y; leave out to read ISO and
    other common forms."""
    transaction_date_format: DateFormat | None = None
    """The same for the transaction log, such as %Y%m%d."""
    dayfirst: bool | None = None
    """Whether numeric dates such as 01/02/2026 are day/month (true) or month/day (false); left
    out, each column is read in the one order that fits all its dates."""
    keep_duplicate_transactions: bool = False
    """Keep identical transaction rows (a log without order ids may hold same-day repeats)."""


CRM_PRESETS: dict[str, CrmMapping] = {
    "hourglass": CrmMapping(),
    "bitrix24": CrmMapping(
        deals=DealColumns(
            deal="OWNER_ID",
            stage="STAGE_ID",
            entered="CREATED_TIME",
            left=None,
            outcome="STAGE_SEMANTIC_ID",
            source="SOURCE_ID",
            loss_reason="LOSS_REASON",
            seller="ASSIGNED_BY_ID",
        ),
        stages={
            "NEW": "know",
            "PREPARATION": "like",
            "PREPAYMENT_INVOICE": "trust",
            "EXECUTING": "try",
            "FINAL_INVOICE": "buy",
            "WON": "won",
            "LOSE": "lost",
        },
        outcomes={"P": "open", "S": "won", "F": "lost"},
        organic_sources=["WEB", "CALL", "EMAIL", "WEBFORM", "CALLBACK", "STORE", "OTHER"],
        referral_sources=["RECOMMENDATION", "PARTNER"],
    ),
    "hubspot": CrmMapping(
        deals=DealColumns(
            deal="Record ID",
            stage="Deal Stage",
            entered="Date entered",
            left="Date exited",
            outcome=None,
            source="Original Source",
            loss_reason="Closed Lost Reason",
            seller="Deal owner",
            stage_columns=True,
        ),
        stages={
            "appointmentscheduled": "know",
            "Appointment Scheduled": "know",
            "qualifiedtobuy": "like",
            "Qualified To Buy": "like",
            "presentationscheduled": "trust",
            "Presentation Scheduled": "trust",
            "decisionmakerboughtin": "try",
            "Decision Maker Bought-In": "try",
            "contractsent": "buy",
            "Contract Sent": "buy",
            "closedwon": "won",
            "Closed Won": "won",
            "closedlost": "lost",
            "Closed Lost": "lost",
        },
        organic_sources=["ORGANIC_SEARCH", "DIRECT_TRAFFIC", "SOCIAL_MEDIA", "OFFLINE"],
        referral_sources=["REFERRALS"],
    ),
    "salesforce": CrmMapping(
        deals=DealColumns(
            deal="OpportunityId",
            stage="StageName",
            entered="CreatedDate",
            left=None,
            outcome=None,
            source="LeadSource",
            loss_reason="Loss_Reason__c",
            seller="OwnerId",
        ),
        stages={
            "Prospecting": "know",
            "Qualification": "like",
            "Needs Analysis": "trust",
            "Value Proposition": "trust",
            "Id. Decision Makers": "try",
            "Perception Analysis": "try",
            "Proposal/Price Quote": "try",
            "Negotiation/Review": "buy",
            "Closed Won": "won",
            "Closed Lost": "lost",
        },
        organic_sources=["Web", "Phone Inquiry", "Other"],
        referral_sources=["Partner Referral", "Employee Referral", "External Referral"],
    ),
}
"""Default mappings for exports as they come from each CRM; the first whose deal, stage and
entered columns are all in a file is used when no mapping is given."""


def load_mapping(text: str, source: str = "<mapping>") -> CrmMapping:
    """Parse a mapping file's YAML; `preset: NAME` starts from a shipped default mapping."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DataError(
            _("{source}{where}: not valid YAML: {problem}").format(
                source=source, where="", problem=str(err).splitlines()[0]
            )
        ) from None
    if not isinstance(data, dict):
        raise DataError(
            _("{source}: a mapping file is a mapping of keys to values").format(source=source)
        )
    preset = data.pop("preset", "hourglass")
    if not isinstance(preset, str) or preset not in CRM_PRESETS:
        raise DataError(
            _("{source}: preset: '{preset}' is not one of {choices}").format(
                source=source, preset=preset, choices=", ".join(CRM_PRESETS)
            )
        )
    base = CRM_PRESETS[preset].model_dump()
    for key in ("deals", "transactions"):
        if isinstance(data.get(key), dict):
            data[key] = {**base[key], **data[key]}
    try:
        return CrmMapping.model_validate({**base, **data})
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"] if not str(p).startswith("function-"))
            message = pydantic_message(e).removeprefix("Value error, ")
            lines.append(f"{source}: {loc or _('(top level)')}: {message}")
        raise DataError("\n".join(lines)) from None
