"""Helpers every chapter's recipes share."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def paper_table(rows: Sequence[tuple[str, Any, Any]]):
    """The closing "paper reported | this run" table."""
    import pandas as pd

    return pd.DataFrame([{"quantity": q, "paper reported": p, "this run": r} for q, p, r in rows]).set_index("quantity")


def percent(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.1f}%"
