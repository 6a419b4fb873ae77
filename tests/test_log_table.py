"""The event log's columnar tables."""

from __future__ import annotations

import math

import numpy as np

from hourglass.log import visits_table


def test_rows_appended_as_tuples_keep_their_order_among_blocks():
    table = visits_table()
    table.append_row((7, 3, 1.5, 2.5, 0.25, 0, 4))
    table.add_block(
        prospect=np.array([8, 9], np.int32),
        stage=np.array([0, 1], np.int8),
        enter=np.array([2.0, 3.0]),
        exit=np.array([np.nan, 4.0]),
        wait=np.array([np.nan, np.nan]),
        outcome=np.array([1, 0], np.int8),
        seller=np.array([-1, -1], np.int16),
    )
    table.add_row(10, 4, 5.0, math.nan, 1.0, 1, 2)
    assert table.count == 4
    columns = table.freeze()
    assert columns["prospect"].tolist() == [7, 8, 9, 10]
    assert columns["stage"].tolist() == [3, 0, 1, 4]
    assert columns["wait"][0] == 0.25 and columns["seller"].tolist() == [4, -1, -1, 2]
    assert columns["enter"].dtype == np.float64 and columns["seller"].dtype == np.int16
