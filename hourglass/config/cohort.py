"""The customers a business already has when a run starts: how many, in which classes, how old.

What a planner knows of them, and how the run uses it:

- `count`: customers who bought before day 0. Their purchases before the run are not
  counted (they are neither buyers nor revenue of the run); from day 0 they buy again and
  talk with the scenario's repeat and referral behaviour, as customers of segment one.
- `by_class`: the share of them in each loyalty class on day 0. Those in a class that still
  buys (one_time ... fan) buy again; those temporarily lost, former or antagonists do not
  until a loyalty move brings them back (antagonists weigh on the funnel from day 0).
- `months_as_customers`: how long they have been customers (the same for each; give the
  mean if it differs). The repeat model's drop-outs over that time decide who still buys:

  * without `by_class`, each starting customer's past is drawn: after each repeat purchase
    they stop with the drop-out chance, and those who stopped start temporarily lost, the
    others in the class new customers start in. With the simple model that leaves
    e^(-rate x drop-out x months) of them buying;
  * with BG/NBD customers differ, so a customer who has stayed longer without dropping out
    is likelier to be one who rarely drops out: each one still buying on day 0 has the
    purchase rate lambda and drop-out chance p of someone who survived the tenure (the
    prior weighed by e^(-lambda p t)). Over the next t days such a customer makes
    (E[X(T + t)] - E[X(T)]) / S(T) repeat purchases, E[X] being BG/NBD's expected repeats
    of a new customer and S(T) its chance to be alive at T (`hourglass.theory`).

  The simple model gives every customer the same rate and drop-out chance, and its clock
  has no memory, so tenure does not change how a customer still buying goes on: with
  `by_class` and the simple model, tenure is not used.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field, field_validator

from hourglass.config.base import Model
from hourglass.config.sections import Repeat
from hourglass.i18n import _, grouped
from hourglass.stages import DAYS_PER_MONTH, LoyaltyClass

MAX_STARTING_CUSTOMERS = 10_000_000
"""The most starting customers a scenario may name."""
MAX_MONTHS_AS_CUSTOMERS = 1200.0
"""The longest tenure a scenario may give its starting customers: a hundred years."""
SHARE_TOLERANCE = 1e-6
"""How far the class shares may add up from 1 (rounding in a file)."""
LEAST_SURVIVING = 1e-4
"""The smallest share of BG/NBD customers who may have gone the tenure without dropping out:
those still buying are drawn from new customers, keeping the ones who went that long."""


class StartingCustomers(Model):
    """Customers who bought before day 0: from day 0 they buy again and talk, like new ones.

    See the module's text for what each field means and how the run uses it.
    """

    count: Annotated[int, Field(ge=1, le=MAX_STARTING_CUSTOMERS)]
    by_class: dict[LoyaltyClass, Annotated[float, Field(ge=0.0, le=1.0)]] | None = None
    """Share of them in each loyalty class on day 0; the shares add up to 1."""
    months_as_customers: Annotated[float, Field(ge=0.0, le=MAX_MONTHS_AS_CUSTOMERS)] = 0.0
    """Months since their first purchase; 0: they have just become customers."""

    @field_validator("by_class")
    @classmethod
    def _shares_add_up_to_one(cls, shares: dict[str, float] | None) -> dict[str, float] | None:
        if shares is None:
            return None
        total = math.fsum(shares.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(
                _(
                    "the shares add up to {total}, not 1; give each loyalty class's share of "
                    "the starting customers (e.g. one_time: 0.7, temporarily_lost: 0.3)"
                ).format(total=f"{total:g}")
            )
        return shares

    def check_tenure(self, repeat: Repeat | None) -> None:
        """Refuse a tenure that hardly any customer of the BG/NBD model goes without a drop-out.

        Only customers given in classes that buy are drawn as survivors; without classes the
        tenure decides who still buys, whatever it is.
        """
        if repeat is None or repeat.bgnbd is None or not self.by_class:
            return
        from scipy import special

        g = repeat.bgnbd
        periods = self.months_as_customers * DAYS_PER_MONTH / g.period_days
        surviving = float(special.hyp2f1(g.r, g.a, g.a + g.b, -periods / g.alpha))
        if surviving < LEAST_SURVIVING:
            raise ValueError(
                _(
                    "starting_customers.months_as_customers: under after_sale.repeat.bgnbd "
                    "fewer than 1 in {least} customers go {months} months without dropping "
                    "out, too few to stand for those still buying; give a shorter time"
                ).format(least=grouped(1 / LEAST_SURVIVING), months=f"{self.months_as_customers:g}")
            )
