"""Peak memory and CPU time of each notebook's kernel: sizing a classroom server (issue 16).

    python benchmarks/bench_memory.py [notebooks/NN_name.ipynb ...]

Runs every notebook top to bottom in its own fresh kernel (as each student's kernel would), then
a probe cell that reads the kernel process's peak resident memory (VmHWM in /proc/self/status,
Linux) and its CPU seconds (user + system, `resource.getrusage`). Prints one line per figure:
`kernel_peak_rss_mb[NN_name]: X`, `kernel_cpu_seconds[NN_name]: X`, `wall_seconds[NN_name]: X`,
then the largest peak. Target (issue 16): no kernel above 1.5 GB. notebooks/TEACHING.md turns
the figures into students per server.
"""

import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 1536
PROBE = """\
import json, re, resource
_status = open("/proc/self/status").read()
_usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"peak_rss_kb": int(re.search(r"VmHWM:\\s+(\\d+) kB", _status).group(1)),
                  "cpu_seconds": _usage.ru_utime + _usage.ru_stime}))
"""


def measure(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    t0 = time.perf_counter()
    # allow_errors: a timing assert that fails on a busy machine must not hide the memory figure
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    wall = time.perf_counter() - t0
    probe = json.loads(nb.cells[-1].outputs[-1]["text"])
    errors = [
        c.id
        for c in nb.cells[:-1]
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)
    ]
    return {
        "peak_rss_mb": probe["peak_rss_kb"] / 1024,
        "cpu_seconds": probe["cpu_seconds"],
        "wall_seconds": wall,
        "errors": errors,
    }


def main(paths):
    paths = [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    peaks = {}
    for path in paths:
        m = measure(path)
        peaks[path.stem] = m["peak_rss_mb"]
        print(f"kernel_peak_rss_mb[{path.stem}]: {m['peak_rss_mb']:.0f}")
        print(f"kernel_cpu_seconds[{path.stem}]: {m['cpu_seconds']:.1f}")
        print(f"wall_seconds[{path.stem}]: {m['wall_seconds']:.1f}", flush=True)
        if m["errors"]:
            print(f"  (cells that raised, run continued: {', '.join(m['errors'])})", flush=True)
    worst = max(peaks, key=peaks.get)
    verdict = "within" if peaks[worst] <= TARGET_MB else "ABOVE"
    print(
        f"largest_kernel_peak_rss_mb: {peaks[worst]:.0f} ({worst}; {verdict} the "
        f"{TARGET_MB} MB target)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
