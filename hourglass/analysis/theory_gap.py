"""The simulated funnel beside its theory: entries per stage against the expected entries."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hourglass.stages import FUNNEL


def theory_gap(stages: pd.DataFrame, expected: Mapping[str, float]) -> pd.DataFrame:
    """Per funnel stage: simulated entries, the expected entries and their gap.

    `stages` is a stage table (a `stage` and an `entered` column); `expected` maps funnel
    stages to expected entries, e.g. the absorbing-chain expectation fed the simulated
    prospects. The gap is simulated over expected, less one (NaN where nothing is expected).
    """
    simulated = stages.set_index("stage")["entered"].reindex(FUNNEL)
    theory = pd.Series(expected, dtype=float).reindex(FUNNEL)
    return pd.DataFrame(
        {
            "stage": list(FUNNEL),
            "simulated": simulated.to_numpy(),
            "expected": theory.to_numpy(),
            "gap": (simulated / theory.where(theory > 0) - 1).to_numpy(),
        }
    )
