"""The class page's leaderboard table and its chart: each posted run's test accuracy against its
learning rate (log scale), coloured by optimizer, as a Vega-Lite dict for ``ui.show_vega`` (built
once per set of runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from app.a11y import OTHER_COLOR, OTHER_SHAPE, SERIES_COLORS, SERIES_SHAPES
from app.i18n import t
from app.vega import arrow, nominal, quantitative
from classroom import classboard as cb

HEIGHT = 320
PROJECTOR_FONTS = {"labelFontSize": 18, "titleFontSize": 20}  # read from the back of the room


def decades(values: pd.Series) -> list[float]:
    """The powers of ten spanning ``values``: the log axis's ticks (without them it draws a line at every 1-9 × 10^k)."""
    lo, hi = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
    return [float(10.0 ** k) for k in np.arange(lo, max(hi, lo + 1) + 1)]


def accuracy_span(values: pd.Series) -> list[float]:
    """The accuracy axis's range: the runs' own, widened to at least one percentage point and kept in [0, 1]
    (a single run, or runs of equal accuracy, would leave the axis no width)."""
    lo, hi = float(values.min()), float(values.max())
    margin = max(0.005, 0.05 * (hi - lo))
    return [max(0.0, lo - margin), min(1.0, hi + margin)]


def leader_table(ranked: pd.DataFrame, most: int, optimizer_name: Callable[[Any], str]) -> pd.DataFrame:
    """The leaderboard (``cb.leaderboard``) as shown: rank, nickname, accuracy (%), seconds, optimizer, lr, runs."""
    board_frame = ranked.head(most)
    settings = board_frame["settings"]
    return pd.DataFrame({
        t("classboard.col.rank"): board_frame["rank"],
        t("classboard.col.nickname"): board_frame["nickname"],
        t("classboard.col.accuracy"): [f"{a:.2%}" for a in board_frame["accuracy"]],
        t("classboard.col.seconds"): [t("classboard.seconds", seconds=f"{s:.1f}") for s in board_frame["seconds"]],
        t("classboard.col.optimizer"): [optimizer_name(s.get("optimizer", "—")) for s in settings],
        t("classboard.col.lr"): [f"{s['lr']:g}" if isinstance(s.get("lr"), (int, float)) else "—" for s in settings],
        t("classboard.col.runs"): board_frame["runs"],
    })


def accuracy_chart(runs: pd.DataFrame, optimizer_name: Callable[[Any], str]) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """One dot per run, test accuracy against the learning rate, coloured by optimizer (named by
    ``optimizer_name``): ``(spec, data)`` for ``ui.show_vega`` (the data as Arrow bytes, made once),
    or None when no run carries a positive learning rate."""
    table = cb.settings_table(runs)
    if "lr" not in table or "optimizer" not in table:
        return None
    lr = pd.to_numeric(table["lr"], errors="coerce")
    kept = lr.gt(0) & np.isfinite(lr)
    if not kept.any():
        return None
    posted = table.loc[kept, "optimizer"]
    # Each optimizer keeps lesson 1's colour for it and a shape of its own: apart without colour too.
    known = [o for o in SERIES_COLORS if (posted == o).any()]
    others = sorted({optimizer_name(o) for o in posted if o not in SERIES_COLORS})
    names = [optimizer_name(o) for o in known] + others
    colors = [SERIES_COLORS[o] for o in known] + [OTHER_COLOR] * len(others)
    shapes = [SERIES_SHAPES[o] for o in known] + [OTHER_SHAPE] * len(others)
    shown = pd.DataFrame({
        "nickname": table.loc[kept, "nickname"].astype(str).to_numpy(),
        "accuracy": table.loc[kept, "accuracy"].to_numpy(np.float64),
        "seconds": table.loc[kept, "seconds"].to_numpy(np.float64),
        "optimizer": [optimizer_name(o) for o in table.loc[kept, "optimizer"]],
        "lr": lr[kept].to_numpy(np.float64),
    })
    lr_t, acc_t, opt_t = t("classboard.col.lr"), t("classboard.col.accuracy"), t("classboard.col.optimizer")
    ticks = decades(shown["lr"])
    spec: dict[str, Any] = {
        "height": HEIGHT,
        "data": {"name": "runs"},
        "mark": {"type": "point", "filled": True, "size": 90, "opacity": 0.8},
        "encoding": {
            # The axes span whole decades and a margin of accuracy around the runs, with 12 px to spare at
            # each end: one or two runs no longer squeeze the ticks onto each other or sit cut at an edge.
            "x": quantitative("lr", title=lr_t, scale={"type": "log", "domain": [ticks[0], ticks[-1]], "padding": 12},
                              axis={"values": ticks, "format": "~g"}),
            "y": quantitative("accuracy", title=acc_t, scale={"domain": accuracy_span(shown["accuracy"]), "padding": 12},
                              axis={"format": ".1~%", "tickMinStep": 0.001}),
            "color": nominal("optimizer", title=opt_t, legend={"orient": "bottom", "columns": 2}, scale={"domain": names, "range": colors}),
            "shape": nominal("optimizer", title=opt_t, legend={"orient": "bottom", "columns": 2}, scale={"domain": names, "range": shapes}),
            "tooltip": [nominal("nickname", title=t("classboard.col.nickname")),
                        quantitative("accuracy", title=acc_t, format=".2%"),
                        quantitative("lr", title=lr_t, format="g"),
                        nominal("optimizer", title=opt_t),
                        quantitative("seconds", title=t("classboard.col.seconds"), format=".1f")],
        },
    }
    best = shown.loc[shown["accuracy"].idxmax()]
    spec["description"] = t("access.board_chart", n=len(shown), best=f"{best['accuracy']:.2%}",
                            optimizer=best["optimizer"], lr=f"{best['lr']:g}")
    return spec, {"runs": arrow(shown)}


def for_projector(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with axis and legend type large enough for the back of the room."""
    return {**spec, "config": {"axis": dict(PROJECTOR_FONTS), "legend": dict(PROJECTOR_FONTS)}}
