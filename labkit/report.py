"""What the chapters show in words and tables, built from results in one visible place.

The functions that compute results return numbers and plain tables; this module turns them
into what a reader sees: the closing "paper reported | this run" table, percentages, and the
sentences whose wording depends on a result (a verdict is computed from the numbers it speaks
of, by a tested function, never typed).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def paper_table(rows: Sequence[tuple[str, Any, Any]]):
    """The closing "paper reported | this run" table."""
    import pandas as pd

    return pd.DataFrame([{"quantity": q, "paper reported": p, "this run": r} for q, p, r in rows]).set_index("quantity")


def percent(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.1f}%"
