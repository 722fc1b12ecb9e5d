"""Cold start: `import helpers` + `load_model()` + one forward pass, in a fresh interpreter.

    python benchmarks/bench_startup.py

Prints `cold_start_seconds: X` (median of 5 fresh processes; target <= 2 s) and the parts.
"""

import json
import statistics
import subprocess
import sys

PROBE = r"""
import json, time
t0 = time.perf_counter()
import torch
import helpers
from helpers.models import load_model
t1 = time.perf_counter()
model, tok = load_model()
t2 = time.perf_counter()
with torch.no_grad():
    model(tok("To be, or not to be", return_tensors="pt")["input_ids"])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "forward": t3 - t2, "total": t3 - t0}))
"""


def main(runs=5):
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for part in ("import", "load", "forward"):
        print(f"cold_start_{part}_seconds: {statistics.median(r[part] for r in results):.2f}")
    print(f"cold_start_seconds: {statistics.median(r['total'] for r in results):.2f}")


if __name__ == "__main__":
    main()
