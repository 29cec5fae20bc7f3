"""Speed and accuracy figures for the README. Run them all with `make bench` (python -m benchmarks)."""
