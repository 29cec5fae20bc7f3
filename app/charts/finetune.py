"""The class fine-tune's chart: out-of-fold accuracy on the class's own digits, before and after, overall and per digit."""

from __future__ import annotations

from typing import Any

import pandas as pd

from app.i18n import t
from app.vega import arrow, nominal, quantitative

HEIGHT = 260
COLOURS = ("#999999", "#0072B2")  # before grey, after blue (Okabe-Ito): apart in colour and in lightness


def before_after_table(per_digit: pd.DataFrame, before: float, after: float) -> pd.DataFrame:
    """Long table (group, when, accuracy, drawings): "all" first, then each digit, each before and after."""
    rows = []
    groups = [(t("finetune.chart_all"), before, after, int(per_digit["drawings"].sum()) if len(per_digit) else 0)]
    groups += [(str(int(r.digit)), float(r.before), float(r.after), int(r.drawings)) for r in per_digit.itertuples()]
    for name, b, a, n in groups:
        rows.append({"group": name, "when": t("finetune.before"), "accuracy": b, "drawings": n})
        rows.append({"group": name, "when": t("finetune.after"), "accuracy": a, "drawings": n})
    return pd.DataFrame(rows, columns=["group", "when", "accuracy", "drawings"])


def before_after_chart(per_digit: pd.DataFrame, before: float, after: float) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Bars side by side, before and after, for all the class's digits and each digit: ``(spec, data)`` for ``ui.show_vega``."""
    table = before_after_table(per_digit, before, after)
    order = [t("finetune.before"), t("finetune.after")]
    acc = t("finetune.axis_accuracy")
    spec: dict[str, Any] = {
        "height": HEIGHT,
        "data": {"name": "folds"},
        "mark": {"type": "bar"},
        "encoding": {
            "x": nominal("group", title=t("finetune.axis_digit"), sort=None, axis={"labelAngle": 0}),
            "xOffset": nominal("when", sort=order),
            "y": quantitative("accuracy", title=acc, scale={"domain": [0, 1]}, axis={"format": "%"}),
            "color": nominal("when", title=None, sort=order, scale={"domain": order, "range": list(COLOURS)},
                             legend={"orient": "bottom"}),
            "tooltip": [nominal("group", title=t("finetune.axis_digit")), nominal("when", title=" "),
                        quantitative("accuracy", title=acc, format=".1%"),
                        quantitative("drawings", title=t("finetune.col_drawings"))],
        },
    }
    return spec, {"folds": arrow(table)}
