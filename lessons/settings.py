"""A page's settings as plain data: each topic's ``SETTINGS`` table (URL name -> ``Setting``) lives in
its ``lessons`` module, and the page, the take-home program, the class board and the benchmarks read it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    """A shareable page setting: its default, and the range or options a URL value must obey."""

    default: Any
    lo: float | None = None
    hi: float | None = None
    options: Sequence[Any] | None = None

    def decode(self, raw: str) -> Any:
        """Parse a URL value; anything unparsable or out of range falls back or is clamped."""
        kind = type(self.default)
        try:
            if kind is bool:
                value: Any = raw in ("1", "true", "True")
            elif kind in (list, tuple):
                items = [item for item in raw.split(",") if item]
                if self.options is not None:
                    items = [item for item in items if item in self.options]
                value = kind(items)
            elif kind is int:
                value = int(float(raw))
            elif kind is float:
                value = float(raw)
                if not math.isfinite(value):
                    return self.default
            else:
                value = raw
        except (TypeError, ValueError):
            return self.default
        if self.options is not None and kind not in (list, tuple) and value not in self.options:
            return self.default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.lo is not None:
                value = max(value, kind(self.lo))
            if self.hi is not None:
                value = min(value, kind(self.hi))
        return value

    @staticmethod
    def encode(value: Any) -> str:
        """The URL form of a value: short, and read back to the same value by ``decode``."""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (list, tuple)):
            return ",".join(str(item) for item in value)
        if isinstance(value, float):
            return f"{value:.10g}"
        return str(value)
