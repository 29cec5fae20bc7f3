"""Run every ``benchmarks/bench_*.py`` (or those named on the command line) and print their reports.

Each module has ``main() -> list[str]``: the lines it reports. Figures are ratios measured in one
run, so a noisy shared machine slows both sides alike.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(names: list[str]) -> int:
    here = Path(__file__).parent
    found = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    chosen = [n for n in found if not names or any(arg in n for arg in names)]
    for name in chosen:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"## {name}", flush=True)
        for line in module.main():
            print(line, flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
