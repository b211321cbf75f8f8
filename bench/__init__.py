"""The benchmark the README reports: run `make bench` (python -m bench.run)."""
