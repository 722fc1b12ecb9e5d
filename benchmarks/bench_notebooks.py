"""Execution time of every notebook (target: <= 20 s each on the course's 2-core CPU).

    python benchmarks/bench_notebooks.py [notebooks/NN_name.ipynb ...]

Prints one line per notebook, `notebook_seconds[NN_name]: X`, then `notebooks_total_seconds: X`.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.timing import timed

ROOT = Path(__file__).resolve().parent.parent


def main(paths):
    paths = [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    total = 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}})
        seconds, _ = timed(client.execute)
        total += seconds
        print(f"notebook_seconds[{path.stem}]: {seconds:.1f}", flush=True)
    print(f"notebooks_total_seconds: {total:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
