"""Single-class plans: run lists of cells, their minutes and slack, rendered for the teacher.

    python -m course.plans             # render the plans into TEACHING.md and the run sheets
    python -m course.plans --check     # fail (exit 1) if either is stale
    python -m course.plans --find-dependencies PLAN   # run a plan, adding the setup it needs

`notebooks/plans.json` holds each plan: its length in minutes and its blocks, each an ordered run
list of cells `NN#id`, setup cells included. The minutes of a block are counted from its cells
with the rule and rates of `benchmarks/bench_reading.py` (prose spoken at 130 words/min, code
shown at 3 s a line, 2 minutes per prediction stop of notebooks/TEACHING.md in the block) plus the
run time of every notebook the block is the first to open (the whole notebook's, an upper bound
for the cells run). The slack is what the plan's length leaves over. Rendered into TEACHING.md's
"Session plans" section (between two marker comments) and into one printable run sheet per plan,
`notebooks/run_sheets/<plan>.md`.

`--find-dependencies` executes each notebook's part of a plan in a fresh kernel, one cell at a
time; when a cell fails with a NameError it runs the latest earlier cell of the same notebook
that defines the name (found by reading the cells' code) and tries again, and prints the run
list it ended with. A teacher runs each notebook in its own kernel, and so does this.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import re
import sys
from pathlib import Path

import nbformat

from course.handouts import guide_stops, solution_indices

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PLANS = NOTEBOOKS / "plans.json"
GUIDE = NOTEBOOKS / "TEACHING.md"
SHEETS = NOTEBOOKS / "run_sheets"
CELL = re.compile(r"^(\d\d)#([A-Za-z0-9_-]+)$")
BEGIN = "<!-- plans: written by python -m course.plans from notebooks/plans.json -->"
END = "<!-- plans: end -->"
#: A run sheet is one printed page: at most this many lines (A4 or Letter, 10-11 pt).
PAGE_LINES = 60


def bench_reading():
    """benchmarks/bench_reading.py: the rates and counting rules of the guide's minutes."""
    spec = importlib.util.spec_from_file_location(
        "bench_reading", ROOT / "benchmarks" / "bench_reading.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_paths() -> dict[str, Path]:
    return {p.name[:2]: p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def parse_cell(ref) -> tuple[str, str]:
    if not isinstance(ref, str):
        raise TypeError(f"a cell is cited as a string 'NN#id', got {ref!r}")
    m = CELL.match(ref)
    if not m:
        raise ValueError(f"cell {ref!r} is not of the form 'NN#id' (NN: 00-99)")
    return m[1], m[2]


def load(path: Path = PLANS) -> dict:
    """The plans, checked: known notebooks and cells, no worked solution, each notebook's cells
    in the notebook's order, a positive length in minutes."""
    plans = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(plans, dict) or not plans:
        raise ValueError(f"{path}: expected an object of plans, got {type(plans).__name__}")
    paths = notebook_paths()
    cells = {}
    for nn, p in paths.items():
        nb = nbformat.read(p, as_version=4)
        solutions = {nb.cells[i].id for i in solution_indices(nb)}
        cells[nn] = ([c.id for c in nb.cells], solutions)
    for name, plan in plans.items():
        minutes = plan.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 240:
            raise ValueError(f"plan {name!r}: minutes={minutes!r}, expected an int in 1..240")
        if not plan.get("blocks"):
            raise ValueError(f"plan {name!r} has no blocks")
        last = {}
        for block in plan["blocks"]:
            if not block.get("cells"):
                raise ValueError(f"plan {name!r}, block {block.get('title')!r}: no cells")
            for ref in block["cells"]:
                nn, cid = parse_cell(ref)
                if nn not in cells:
                    raise ValueError(
                        f"plan {name!r}: {ref}: no notebook {nn} (have {sorted(cells)})"
                    )
                order, solutions = cells[nn]
                if cid not in order:
                    raise ValueError(f"plan {name!r}: {ref}: notebook {nn} has no cell {cid!r}")
                if cid in solutions:
                    raise ValueError(f"plan {name!r}: {ref} is a worked solution")
                if order.index(cid) <= last.get(nn, -1):
                    raise ValueError(f"plan {name!r}: {ref} comes before a cell already run")
                last[nn] = order.index(cid)
    return plans


def _cells(nn: str) -> dict:
    nb = nbformat.read(notebook_paths()[nn], as_version=4)
    return {c.id: c for c in nb.cells}


def block_minutes(block: dict, opened: set[str], stops: dict[str, str] | None = None) -> dict:
    """A block's minutes by bench_reading.py's rule: spoken prose, shown code, 2 minutes per
    prediction stop, and the run time of each notebook first opened here (added to `opened`)."""
    bench = bench_reading()
    stops = guide_stops() if stops is None else stops
    words = code = 0
    run = 0.0
    n_stops = 0
    cache: dict[str, dict] = {}
    for ref in block["cells"]:
        nn, cid = parse_cell(ref)
        cell = cache.setdefault(nn, _cells(nn))[cid]
        if cell.cell_type == "markdown":
            words += bench.words(cell.source)
        elif cell.cell_type == "code":
            code += bench.code_lines(cell.source)
        n_stops += ref in stops
        if nn not in opened:
            opened.add(nn)
            run += bench.RUN_SECONDS[nn]
    minutes = (
        words / bench.SPEAK_WPM
        + (code * bench.SHOW_CODE_S + run + n_stops * bench.PREDICTION_STOP_S) / 60
    )
    return {"words": words, "code": code, "stops": n_stops, "run_s": run, "minutes": minutes}


def plan_minutes(plan: dict, stops: dict[str, str] | None = None) -> dict:
    """Each block's minutes (rounded up to whole minutes, as a teacher plans), their sum and the
    slack the plan's length leaves."""
    opened: set[str] = set()
    blocks = [block_minutes(b, opened, stops) for b in plan["blocks"]]
    for b in blocks:
        b["whole"] = -int(-b["minutes"] // 1)  # ceil
    used = sum(b["whole"] for b in blocks)
    return {"blocks": blocks, "used": used, "slack": plan["minutes"] - used}


def ranges(refs: list[str]) -> list[str]:
    """Cells as runs of neighbours in their notebook: `07#e2d780e1-07#4114e0fb` (2 cells)."""
    out, run = [], []
    order = {}

    def flush():
        if not run:
            return
        out.append(run[0] if len(run) == 1 else f"{run[0]} to {run[-1]} ({len(run)} cells)")

    for ref in refs:
        nn, cid = parse_cell(ref)
        ids = order.setdefault(nn, list(_cells(nn)))
        if run:
            pnn, pid = parse_cell(run[-1])
            if pnn == nn and ids.index(cid) == ids.index(pid) + 1:
                run.append(ref)
                continue
        flush()
        run = [ref]
    flush()
    return out


def render_guide(plans: dict, stops: dict[str, str] | None = None) -> str:
    """The single-class plans for TEACHING.md: a table of blocks per plan."""
    lines = [
        BEGIN,
        "",
        "### Single classes: the whole answer in 45 or 90 minutes",
        "",
        "Each plan answers the whole question (generation is sequential, training is parallel, and",
        "why) around notebook 07. The run list is every cell to run, in order, setup cells",
        "included (each notebook in its own kernel); `python -m course.plans --find-dependencies`",
        "found the setup cells by running the list, and a test runs it in fresh kernels. Minutes",
        "are counted from the cells with the rates of the table above (prose aloud, code shown,",
        "2 minutes per prediction stop, each notebook's run time once), rounded up per block.",
        "The printable run sheets: `notebooks/run_sheets/`. Show the cells from",
        "`handouts/projector/` (outputs kept, no test markers); students follow in `predict/`.",
        "",
    ]
    for name, plan in plans.items():
        m = plan_minutes(plan, stops)
        lines += [
            f"**{plan['title']}** ({plan['minutes']} minutes; run sheet "
            f"`notebooks/run_sheets/{name}.md`)",
            "",
            "| block | content | run list | stops | min |",
            "|---|---|---|---|---|",
        ]
        for i, (block, bm) in enumerate(zip(plan["blocks"], m["blocks"], strict=True), 1):
            lines.append(
                f"| {i}. {block['title']} | {block['content']} | "
                f"{'; '.join(ranges(block['cells']))} | {bm['stops']} | {bm['whole']} |"
            )
        lines += [
            f"| | slack: {plan['slack']} | | | {m['slack']} |",
            f"| | **total** | | | **{plan['minutes']}** |",
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


def render_sheet(name: str, plan: dict, stops: dict[str, str] | None = None) -> str:
    """One printed page: the blocks with their cells, minutes and the stops' questions."""
    stops = guide_stops() if stops is None else stops
    m = plan_minutes(plan, stops)
    lines = [
        f"# Run sheet: {plan['title']} ({plan['minutes']} min)",
        "",
        f"*{plan['question']}*",
        "",
        "Blocks in order. Run every listed cell in order, each notebook in its own kernel, from",
        "`handouts/projector/` (outputs kept); students follow in `handouts/predict/`. Ask each",
        "stop's question *before* running its cell. Minutes counted from the cells by",
        "`python -m course.plans` (notebooks/TEACHING.md, Session plans).",
        "",
    ]
    clock = 0
    for i, (block, bm) in enumerate(zip(plan["blocks"], m["blocks"], strict=True), 1):
        clock += bm["whole"]
        lines.append(f"**{i}. {block['title']}** ({bm['whole']} min, ends at minute {clock})")
        lines.append("")
        lines.append(f"- Run: {'; '.join(ranges(block['cells']))}.")
        for ref in block["cells"]:
            if ref in stops:
                lines.append(f"- Stop at {ref}: *{stops[ref]}*")
        lines.append("")
    lines.append(f"**Slack: {m['slack']} min** ({plan['slack']}).")
    lines.append("")
    return "\n".join(lines)


def guide_with_plans(guide: str, plans: dict, stops: dict[str, str] | None = None) -> str:
    """TEACHING.md with the plans' part of "Session plans" replaced (added before the first
    `### ` plan of that section when there is none yet)."""
    block = render_guide(plans, stops)
    if BEGIN in guide:
        start, end = guide.index(BEGIN), guide.index(END) + len(END)
        return guide[:start] + block + guide[end:]
    section = guide.index("## Session plans")
    first = guide.index("\n### ", section) + 1
    return guide[:first] + block + "\n\n" + guide[first:]


def write(check: bool = False) -> list[str]:
    """Render into TEACHING.md and the run sheets; with check, write nothing and return the
    stale files."""
    plans = load()
    guide = GUIDE.read_text(encoding="utf-8")
    stops = guide_stops(guide)
    wanted = {GUIDE: guide_with_plans(guide, plans, stops)}
    for name, plan in plans.items():
        wanted[SHEETS / f"{name}.md"] = render_sheet(name, plan, stops)
    stale = [
        str(p.relative_to(ROOT))
        for p, text in wanted.items()
        if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    if not check:
        SHEETS.mkdir(exist_ok=True)
        for p, text in wanted.items():
            p.write_text(text, encoding="utf-8")
    return stale


# --- finding the setup a run list needs, by running it ---------------------------------------


def defined_names(source: str) -> set[str]:
    """Names a cell binds at its top level: assignments, imports, defs, classes, loop and with
    targets."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def run_notebook_part(nn: str, wanted: list[str], find: bool = False, timeout: int = 300):
    """Run the cells `wanted` (ids) of notebook `nn` in a fresh kernel, in order. With find,
    a NameError runs the latest earlier cell that defines the name first. Returns the ids run
    and the first error (None if all ran)."""
    from nbclient import NotebookClient

    path = notebook_paths()[nn]
    nb = nbformat.read(path, as_version=4)
    order = [c.id for c in nb.cells]
    by_id = {c.id: c for c in nb.cells}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,  # an error is read from the outputs, not raised
        resources={"metadata": {"path": str(path.parent)}},
    )
    ran: list[str] = []
    with client.setup_kernel():
        todo = list(wanted)
        while todo:
            cid = todo[0]
            cell = by_id[cid]
            if cell.cell_type != "code":
                ran.append(todo.pop(0))
                continue
            cell.outputs = []
            client.execute_cell(cell, order.index(cid), store_history=True)
            error = next((o for o in cell.outputs if o.output_type == "error"), None)
            if error is None:
                ran.append(todo.pop(0))
                continue
            name = re.match(r"name '(\w+)' is not defined", error.get("evalue", ""))
            if not (find and error.get("ename") == "NameError" and name):
                return ran, f"{nn}#{cid}: {error.get('ename')}: {error.get('evalue')}"
            before = [c for c in order[: order.index(cid)] if by_id[c].cell_type == "code"]
            providers = [c for c in before if name[1] in defined_names(by_id[c].source)]
            providers = [c for c in providers if c not in ran and c not in todo]
            if not providers:
                return ran, f"{nn}#{cid}: {name[1]!r} is defined by no earlier cell"
            todo.insert(0, providers[-1])
    return ran, None


def find_dependencies(plan: dict) -> dict:
    """The plan with every setup cell its run list needs, found by running it."""
    by_notebook: dict[str, list[str]] = {}
    for block in plan["blocks"]:
        for ref in block["cells"]:
            nn, cid = parse_cell(ref)
            by_notebook.setdefault(nn, []).append(cid)
    added = {}
    for nn, wanted in by_notebook.items():
        ran, error = run_notebook_part(nn, wanted, find=True)
        if error:
            raise RuntimeError(error)
        order = list(_cells(nn))
        added[nn] = sorted(set(ran) - set(wanted), key=order.index)
    plan = json.loads(json.dumps(plan))
    for nn, extra in added.items():
        for cid in extra:  # into the block of the first later cell of the same notebook
            order = list(_cells(nn))
            for block in plan["blocks"]:
                same = [r for r in block["cells"] if r.startswith(f"{nn}#")]
                later = [r for r in same if order.index(parse_cell(r)[1]) > order.index(cid)]
                if later:
                    block["cells"].insert(block["cells"].index(later[0]), f"{nn}#{cid}")
                    break
    return plan


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.plans",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--check", action="store_true", help="fail if the rendering is stale")
    parser.add_argument("--find-dependencies", metavar="PLAN", help="run a plan, add its setup")
    args = parser.parse_args(argv)
    if args.find_dependencies is not None:
        plans = load()
        if args.find_dependencies not in plans:
            parser.error(f"no plan {args.find_dependencies!r}: the plans are {sorted(plans)}")
        plan = find_dependencies(plans[args.find_dependencies])
        print(json.dumps(plan, indent=2, ensure_ascii=False))
        return 0
    stale = write(check=args.check)
    if args.check:
        if stale:
            print(f"stale: {', '.join(stale)}: run python -m course.plans")
            return 1
        print("the plans' renderings are up to date")
    else:
        print(f"wrote {GUIDE.relative_to(ROOT)} and {SHEETS.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
