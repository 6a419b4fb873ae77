"""Coverage of pass-probability intervals: how often they hold the true rate, and how wide.

Synthetic stage visits (open ones censored) for stages, sources and sellers; for each,
the share of 95% intervals holding the truth, that share's binomial standard error and the
mean width, with the interval calibration gives now and with the former percentile one
(the bootstrap draws' 2.5 and 97.5 percentiles), both from the same draws. With
--calibrate N, also the coverage of each seller's pass probability per stage now, over N
CRM exports of 600 deals calibrated whole (ann passes buy 0.85, bob and cat 0.62, every
other stage 0.8).

    python benchmarks/bench_coverage.py --exports 200 --calibrate 150
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hourglass import calibrate
from tests.test_calib_honest import BUY, _seller_export
from tests.test_pass_coverage import CASES, coverage, fitted, percentile_interval


def calibrated_sellers(exports: int) -> None:
    """Print the coverage and mean width of sellers' pass probabilities in whole calibrations."""
    held, widths = [], []
    for seed in range(2000, 2000 + exports):
        doc = calibrate(_seller_export(seed), until="2026-01-01", seed=seed).to_dict()
        for name, buy in BUY.items():
            for stage, fit in doc["sellers"][name]["stages"].items():
                low, high = fit["pass_prob_ci"]
                held.append(low <= (buy if stage == "buy" else 0.8) <= high)
                widths.append(high - low)
    share, se = coverage(held)
    width = sum(widths) / len(widths)
    print(f"{'sellers':<8}{len(held):>10}{'calibrated':>12}{share:>10.3f}{se:>7.3f}{width:>8.3f}")


def main() -> None:
    """Print each kind's coverage and mean width, now and with the percentile interval."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calibrate", type=int, default=0, metavar="N")
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
    if args.calibrate:
        calibrated_sellers(args.calibrate)


if __name__ == "__main__":
    main()
