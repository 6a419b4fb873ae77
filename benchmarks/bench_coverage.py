"""Coverage of pass-probability intervals: how often they hold the true rate, and how wide.

Synthetic stage visits (open ones censored) for stages, sources and sellers; for each,
the share of 95% intervals holding the truth, that share's binomial standard error and the
mean width, with the interval calibration gives now and with the former percentile one
(the bootstrap draws' 2.5 and 97.5 percentiles), both from the same draws.

    python benchmarks/bench_coverage.py --exports 200
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_pass_coverage import CASES, coverage, fitted, percentile_interval


def main() -> None:
    """Print each kind's coverage and mean width, now and with the percentile interval."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{'kind':<8}{'intervals':>10}{'method':>12}{'coverage':>10}{'se':>7}{'width':>8}")
    for kind in CASES:
        now, before = [], []
        for truth, drawn, decided in fitted(kind, args.exports, args.seed):
            now.append(drawn.estimate)
            before.append(percentile_interval(drawn, decided))
            now[-1], before[-1] = (now[-1], truth), (before[-1], truth)
        for method, rows in (("percentile", before), ("now", now)):
            share, se = coverage([e.low <= t <= e.high for e, t in rows])
            width = sum(e.high - e.low for e, _ in rows) / len(rows)
            print(f"{kind:<8}{len(rows):>10}{method:>12}{share:>10.3f}{se:>7.3f}{width:>8.3f}")


if __name__ == "__main__":
    main()
