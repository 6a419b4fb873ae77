"""Which seller worked each visit of a deal history.

A CRM may name the deal's owner on every row, or name a seller only on the rows of the
stages a seller worked. A visit counts for the seller its own rows last name; a visit whose
rows name nobody counts for the seller the deal last names (the deal's owner), and is marked
as not named on its own rows, which is how the calibration tells the stages sellers work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def visit_sellers(visits: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """The visits with `seller` per visit and `named` (the visit's own rows name a seller).

    `visits` has one row per deal and stage and the deal's last seller; `steps` the file's
    rows, with their deal, stage and seller.
    """
    named = steps[steps["seller"] != ""].groupby(["deal", "stage"])["seller"].last()
    own = named.reindex(pd.MultiIndex.from_frame(visits[["deal", "stage"]])).to_numpy()
    has_own = pd.notna(own)
    return visits.assign(named=has_own, seller=np.where(has_own, own, visits["seller"]))
