"""The customers a business already has when a run starts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hourglass.config.base import Model

MAX_STARTING_CUSTOMERS = 10_000_000
"""The most starting customers a scenario may name."""


class StartingCustomers(Model):
    """Customers who bought before day 0: from day 0 they buy again and talk, like new ones.

    Their purchases before the run are not counted (they are neither buyers nor revenue of
    the run); each starts in the loyalty class new customers start in, with the scenario's
    repeat and referral behaviour.
    """

    count: Annotated[int, Field(ge=1, le=MAX_STARTING_CUSTOMERS)]
