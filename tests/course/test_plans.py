"""The single-class plans (notebooks/plans.json): real cells, minutes counted from them by
bench_reading.py's rule, slack that adds up, renderings in TEACHING.md and the run sheets that
match, and run lists that run.

Running every plan's run list in fresh kernels takes about a minute and a half on the course
machine: that test is marked `commands` and runs in .ci/run's step for that marker."""

import json
import math
import re
from pathlib import Path

import nbformat
import pytest

from course import handouts, plans

ROOT = Path(__file__).resolve().parents[2]
PLANS = plans.load()


def bench():
    return plans.bench_reading()


def cell(ref):
    nn, cid = plans.parse_cell(ref)
    nb = nbformat.read(plans.notebook_paths()[nn], as_version=4)
    return next(c for c in nb.cells if c.id == cid)


def test_there_is_a_45_and_a_90_minute_plan():
    assert sorted(p["minutes"] for p in PLANS.values()) == [45, 90]


@pytest.mark.parametrize("name", list(PLANS))
def test_each_plan_answers_the_whole_question_around_notebook_07(name):
    """The answer (07 section 1), each of its parts checked (training is one pass, generation a
    chain of decisions, a decode step bound by memory), and the article's claims with verdicts."""
    refs = [r for b in PLANS[name]["blocks"] for r in b["cells"]]
    for ref in ["07#aae11712", "07#670daada", "07#45233fff", "07#c7467b6d", "07#3aac1ffa"]:
        assert ref in refs, f"{name}: no {ref}"
    # built around 07: it closes the class and takes at least a third of its minutes
    counted = plans.plan_minutes(PLANS[name])
    on_07 = [
        b["whole"]
        for b, block in zip(counted["blocks"], PLANS[name]["blocks"], strict=True)
        if all(r.startswith("07#") for r in block["cells"])
    ]
    assert PLANS[name]["blocks"][-1]["cells"][-1].startswith("07#")
    assert sum(on_07) >= counted["used"] / 3, f"{name}: {sum(on_07)} of {counted['used']} min"
    # every notebook's part starts with its setup_notebook line (seeds, threads, figures)
    for nn in {r[:2] for r in refs}:
        first = next(r for r in refs if r.startswith(nn) and cell(r).cell_type == "code")
        assert "setup_notebook(" in cell(first).source, f"{name}: {nn} starts at {first}"


@pytest.mark.parametrize("name", list(PLANS))
def test_the_minutes_are_counted_from_the_cells_and_the_slack_adds_up(name):
    """Recounted here from the cells with bench_reading.py's rates, independently of the
    module: words aloud, code lines shown, 2 minutes a stop, each notebook's run time once."""
    b = bench()
    stops = handouts.guide_stops()
    plan, counted = PLANS[name], plans.plan_minutes(PLANS[name])
    opened, total = set(), 0
    for block, said in zip(plan["blocks"], counted["blocks"], strict=True):
        seconds = 0.0
        for ref in block["cells"]:
            c = cell(ref)
            if c.cell_type == "markdown":
                seconds += b.words(c.source) / b.SPEAK_WPM * 60
            else:
                seconds += b.code_lines(c.source) * b.SHOW_CODE_S
            seconds += b.PREDICTION_STOP_S if ref in stops else 0
            if ref[:2] not in opened:
                opened.add(ref[:2])
                seconds += b.RUN_SECONDS[ref[:2]]
        assert said["minutes"] == pytest.approx(seconds / 60)
        assert said["whole"] == math.ceil(seconds / 60)
        total += math.ceil(seconds / 60)
    assert counted["used"] == total
    assert counted["slack"] == plan["minutes"] - total
    assert 0 < counted["slack"] <= plan["minutes"] / 4, "room for questions, not a half-empty plan"


def test_the_guide_and_the_run_sheets_show_what_the_plans_count():
    assert plans.write(check=True) == [], "run python -m course.plans"
    guide = plans.GUIDE.read_text(encoding="utf-8")
    section = guide.split("## Session plans")[1].split("\n## ")[0]
    assert plans.BEGIN in section and plans.END in section
    for name, plan in PLANS.items():
        counted = plans.plan_minutes(plan)
        part = section.split(f"**{plan['title']}**")[1].split("**total**")[0]
        rows = re.findall(r"^\| \d+\. .+ \| (\d+) \| (\d+) \|$", part, flags=re.M)
        assert [(int(s), int(m)) for s, m in rows] == [
            (b["stops"], b["whole"]) for b in counted["blocks"]
        ]
        assert re.search(r"^\| \| slack: .+ \| (\d+) \|$", part, flags=re.M)[1] == str(
            counted["slack"]
        )
        sheet = (plans.SHEETS / f"{name}.md").read_text(encoding="utf-8")
        assert re.findall(r"^\*\*\d+\. .+\*\* \((\d+) min", sheet, flags=re.M) == [
            str(b["whole"]) for b in counted["blocks"]
        ]
        assert f"**Slack: {counted['slack']} min**" in sheet
        # the sheet's run lists, ranges expanded, are the plan's, block by block
        listed = re.findall(r"^- Run: (.+)\.$", sheet, flags=re.M)
        assert [expand(x) for x in listed] == [b["cells"] for b in plan["blocks"]]


def expand(run_list: str) -> list[str]:
    """`07#a to 07#c (3 cells); 07#e` -> the cells it names, in order."""
    out = []
    for part in run_list.split("; "):
        m = re.fullmatch(r"(\d\d)#(\S+) to \d\d#(\S+) \((\d+) cells\)", part)
        if not m:
            out.append(part)
            continue
        nb = nbformat.read(plans.notebook_paths()[m[1]], as_version=4)
        ids = [c.id for c in nb.cells]
        run = ids[ids.index(m[2]) : ids.index(m[3]) + 1]
        assert len(run) == int(m[4]), part
        out += [f"{m[1]}#{i}" for i in run]
    return out


@pytest.mark.parametrize("name", list(PLANS))
def test_a_run_sheet_prints_on_one_page(name):
    """At most PAGE_LINES lines once wrapped at 95 characters (A4 or Letter, 11 pt, margins of
    2 cm), and every stop of the run list with its question."""
    sheet = (plans.SHEETS / f"{name}.md").read_text(encoding="utf-8")
    printed = sum(max(1, math.ceil(len(line) / 95)) for line in sheet.splitlines())
    assert printed <= plans.PAGE_LINES, f"{name}.md: {printed} printed lines"
    stops = handouts.guide_stops()
    for ref in (r for b in PLANS[name]["blocks"] for r in b["cells"]):
        if ref in stops:
            assert f"Stop at {ref}: *{stops[ref]}*" in sheet


def test_ranges_are_runs_of_neighbouring_cells():
    nb = nbformat.read(plans.notebook_paths()["07"], as_version=4)
    ids = [f"07#{c.id}" for c in nb.cells]
    assert plans.ranges(ids[2:5] + ids[7:8]) == [f"{ids[2]} to {ids[4]} (3 cells)", ids[7]]


@pytest.mark.parametrize(
    "change, error, says",
    [
        ({"minutes": "45"}, ValueError, "minutes='45', expected an int in 1..240"),
        ({"minutes": 0}, ValueError, "minutes=0, expected an int in 1..240"),
        ({"blocks": []}, ValueError, "has no blocks"),
        ({"cells": ["07-aae11712"]}, ValueError, "'07-aae11712' is not of the form 'NN#id'"),
        ({"cells": [7]}, TypeError, "as a string 'NN#id', got 7"),
        ({"cells": ["42#aae11712"]}, ValueError, "no notebook 42"),
        ({"cells": ["07#nope"]}, ValueError, "notebook 07 has no cell 'nope'"),
        ({"cells": ["07#9adfc4e1"]}, ValueError, "07#9adfc4e1 is a worked solution"),
        ({"cells": ["07#aae11712", "07#e2d780e1"]}, ValueError, "comes before a cell already run"),
    ],
)
def test_a_bad_plan_is_refused_with_the_value_and_what_is_allowed(tmp_path, change, error, says):
    plan = {"title": "t", "minutes": 45, "question": "q?", "slack": "s"}
    plan["blocks"] = [{"title": "b", "content": "c", "cells": ["07#e2d780e1"]}]
    if "cells" in change:
        plan["blocks"][0]["cells"] = change["cells"]
    else:
        plan.update(change)
    path = tmp_path / "plans.json"
    path.write_text(json.dumps({"p": plan}))
    with pytest.raises(error, match=re.escape(says)):
        plans.load(path)


def test_an_unknown_plan_ends_the_command_with_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        plans.main(["--find-dependencies", "60min"])
    assert stop.value.code == 2
    assert "no plan '60min': the plans are ['45min', '90min']" in capsys.readouterr().err


def test_defined_names_reads_what_a_cell_binds():
    source = "import torch.nn as nn\nfrom x import y\ndef f():\n    z = 1\nfor i, j in a:\n    pass"
    assert plans.defined_names(source + "\nwith o as w:\n    k = 2") >= {
        "nn",
        "y",
        "f",
        "i",
        "j",
        "w",
        "k",
    }
    assert plans.defined_names("%timeit x") == set()


@pytest.mark.commands
@pytest.mark.parametrize("name", list(PLANS))
def test_every_run_list_runs_in_fresh_kernels(name):
    """Each notebook's part of the run list, in order, in its own fresh kernel (as a teacher runs
    it), with no setup cell missing: no cell raises."""
    by_notebook = {}
    for block in PLANS[name]["blocks"]:
        for ref in block["cells"]:
            nn, cid = plans.parse_cell(ref)
            by_notebook.setdefault(nn, []).append(cid)
    for nn, cells in by_notebook.items():
        ran, error = plans.run_notebook_part(nn, cells)
        assert error is None, f"{name}: {error}"
        assert ran == cells
