"""Regenerate data/example.csv, the project's own example for the regression exercise.

Run from the repository root: ``python data/make_example.py``. The data come from the
project's own generator with a fixed seed, so the file is the same every time: 100 points
y = 1.4·x + 5 + ε with x in [20, 80] and ε ~ N(0.01, 10²), the course's noise mean with a
spread like the course's data.csv (whose x also lies between about 20 and 80).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lessons.regression import make_noisy_line, points_to_csv  # noqa: E402

PARAMETERS = {"w": 1.4, "b": 5.0, "n": 100, "noise_mean": 0.01, "noise_std": 10.0,
              "x_range": (20.0, 80.0), "seed": 2024}


def example_csv() -> str:
    """The text of data/example.csv."""
    return points_to_csv(make_noisy_line(**PARAMETERS))


if __name__ == "__main__":
    (HERE / "example.csv").write_text(example_csv(), encoding="utf-8")
    print(f"wrote {HERE / 'example.csv'}")
