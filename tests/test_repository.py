"""The repository keeps its promises: two README commands, pinned installs, a small safe model."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_has_the_two_setup_commands():
    commands = readme_commands()
    assert any(
        c.endswith("jupyter lab --config=jupyter_server_config.py notebooks/") for c in commands
    )
    (open_cmd,) = [
        c
        for c in commands
        if c.endswith("jupyter lab --config=jupyter_server_config.py notebooks/") and "pip" in c
    ]
    assert "pip install -r requirements.txt &&" in open_cmd  # the course only
    test_cmds = [c for c in commands if c.endswith("python -m pytest")]
    assert len(test_cmds) == 1
    assert "pip install -r requirements-dev.txt" in test_cmds[0]  # the course + test tools


def test_ci_runs_exactly_the_readme_test_command():
    (test_cmd,) = [c for c in readme_commands() if c.endswith("python -m pytest")]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in ci, "the test command in .ci/run must be the README's, verbatim"


def requirement_lines(text):
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s*(?:- )?([A-Za-z_\-]+==\S+|-e \.)\s*$", line)
        if m:
            out.append(m.group(1))
    return sorted(out)


def test_environment_yml_mirrors_requirements():
    req = requirement_lines((ROOT / "requirements.txt").read_text())
    env = requirement_lines((ROOT / "environment.yml").read_text())
    assert req == env
    assert "torch==2.13.0" in req
    assert all("==" in r or r == "-e ." for r in req), "every requirement is pinned"


TEST_TOOLS = {"pytest", "pytest-xdist", "nbval", "nbclient", "hypothesis", "playwright", "ruff"}
TEST_TOOLS.add("kaleido")  # the PNG beside each figure (tests/store_outputs.py)


def test_the_course_install_leaves_the_test_tools_to_requirements_dev():
    text = (ROOT / "requirements.txt").read_text()
    course = {r.split("==")[0] for r in requirement_lines(text)}
    assert not course & TEST_TOOLS, "the first README command installs only what notebooks need"
    assert requirement_lines(text)[0] == "-e ." or text.splitlines().index("-e .") < min(
        i for i, line in enumerate(text.splitlines()) if "==" in line
    ), "-e . comes first: pip then stops an unsupported Python at tools/python_gate.py"
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev.splitlines()
    dev_pins = {r.split("==")[0] for r in requirement_lines(dev)}
    assert dev_pins == TEST_TOOLS


def test_bundled_models_are_small_and_safetensors_only():
    files = [p for p in MODELS.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total <= 12 * 1024 * 1024, f"models/ holds {total / 2**20:.1f} MiB, the limit is 12"
    assert not [p for p in files if p.suffix in {".bin", ".pt", ".pth", ".pkl", ".ckpt"}]
    for folder in {p.parent for p in files if p.name == "config.json"}:
        assert (folder / "model.safetensors").is_file()
        assert (folder / "README.md").is_file(), f"{folder.name} needs a model card"


def test_no_remote_code_or_pickle_loading_in_helpers_or_course():
    for path in [*(ROOT / "helpers").glob("*.py"), *(ROOT / "course").glob("*.py")]:
        text = path.read_text()
        assert "trust_remote_code=True" not in text
        assert "import pickle" not in text and "torch.load(" not in text


def run_python(*args, cwd=ROOT, env_extra=None, timeout=300):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("GPT_COURSE_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_pytest_from_a_subfolder_collects_the_whole_suite():
    run = run_python("-m", "pytest", "--collect-only", "-q", cwd=ROOT / "notebooks")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "running the whole suite" in run.stdout
    collected = run.stdout
    assert "tests/test_repository.py::" in collected  # the unit tests ...
    assert "notebooks/00_setup_and_tour.ipynb::Cell 0" in collected  # ... and the notebooks


def test_store_outputs_refuses_another_model_or_device(tmp_path):
    for var, value in [("GPT_COURSE_MODEL", "gpt2"), ("GPT_COURSE_DEVICE", "cuda")]:
        run = run_python(
            "tests/store_outputs.py", str(tmp_path / "x.ipynb"), env_extra={var: value}
        )
        assert run.returncode != 0
        assert var in run.stderr and "Unset it" in run.stderr


def _stored_with_widgets(order: list[str], ids: dict[str, str]):
    """A stored notebook whose widget state was created in ``order`` under random ``ids``."""
    import nbformat

    contents = {"box": {"children": ["IPY_MODEL_" + ids["a"]]}, "a": {"v": 1}, "b": {"v": 2}}
    state = {ids[k]: {"state": contents[k]} for k in order}
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": ids["box"]}}
    chunks = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in ("x", "y\n")]
    out = nbformat.v4.new_output("display_data", data=view)
    nb.cells.append(nbformat.v4.new_code_cell("box", id="c0", outputs=[*chunks, out]))
    return nb


def test_storing_twice_writes_the_same_bytes():
    """tests/store_outputs.py renames the widgets' random ids by a fixed order and joins a
    stream's neighbouring chunks: two stores of one notebook give the same file."""
    import secrets

    import nbformat
    from store_outputs import coalesce_streams, stable_widget_ids

    runs = []
    for order in (["box", "a", "b"], ["b", "a", "box"]):
        ids = {k: secrets.token_hex(16) for k in ("box", "a", "b")}
        nb = stable_widget_ids(_stored_with_widgets(order, ids), "nb")
        nb.cells[0].outputs = coalesce_streams(nb.cells[0].outputs)
        runs.append(nbformat.writes(nb))
        assert not any(i in runs[-1] for i in ids.values())  # every random id is gone
    assert runs[0] == runs[1]
    outputs = nbformat.reads(runs[0], as_version=4).cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data"]
    assert outputs[0].text == "xy\n"


def test_the_card_and_the_readme_quote_the_training_run():
    """The figures the bundled model's card and the README give are those its training run wrote
    (training_stats.json), so a rebuilt model cannot leave them stale."""
    import json

    folder = MODELS / "tiny-shakespeare-gpt2"
    stats = json.loads((folder / "training_stats.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    card = (folder / "README.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    per_token, per_char = stats["held_out_nats_per_token"], stats["held_out_nats_per_char"]
    for figure in [
        f"{per_token:.4f}",
        f"{per_char:.4f}",
        f"{stats['parameters']:,}",
        f"{stats['steps']} more steps",
    ]:
        assert figure in card, f"the model card does not give {figure}"
    shape = f"{config['n_layer']} / {config['n_head']} / {config['n_embd']}"
    assert shape in card, f"the model card does not give its shape {shape}"
    if stats.get("teachers"):  # distilled: the card gives how it starts and what it learns from
        assert "--init-from" in card and "--teachers" in card and "distillation" in card
    assert f"{config['n_layer']} layers, {stats['parameters'] / 1e6:.1f}M parameters" in readme
    assert f"{per_char:.2f} nats per character" in readme


def test_every_test_left_out_of_the_readme_command_runs_in_ci():
    """A marker deselected by pyproject's addopts must have its own `pytest -m` step in .ci/run,
    or the tests behind it would never run anywhere."""
    import tomllib

    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"][
        "addopts"
    ]
    deselected = re.findall(r"not (\w+)", addopts[addopts.index("-m") + 1])
    assert {"any_model", "handouts", "browser", "commands", "rerun"} <= set(deselected)
    ci = (ROOT / ".ci" / "run").read_text()
    selected = set()
    for expr in re.findall(r"python -m pytest -m (\"[^\"]+\"|'[^']+'|\S+)", ci):
        selected |= set(re.findall(r"\w+", expr)) - {"or", "and", "not"}
    assert set(deselected) <= selected, f"never run: {set(deselected) - selected}"


def _fake_config(**options):
    from types import SimpleNamespace

    return SimpleNamespace(rootpath=ROOT, args_source=None, option=SimpleNamespace(**options))


def _root_conftest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sanitizer_is_found_when_pytest_starts_in_a_subfolder(monkeypatch):
    """`cd notebooks && python -m pytest 00_...ipynb`: pyproject's relative sanitizer path is
    made absolute for nbval 0.11's option name and for the deprecated one."""
    conftest = _root_conftest()
    monkeypatch.chdir(ROOT / "notebooks")
    config = _fake_config(nbval_sanitize_with="tests/nbval_sanitize.cfg", sanitize_with=None)
    conftest.pytest_configure(config)
    assert config.option.nbval_sanitize_with == str(ROOT / "tests" / "nbval_sanitize.cfg")
    config = _fake_config(nbval_sanitize_with=None, sanitize_with="tests/nbval_sanitize.cfg")
    conftest.pytest_configure(config)
    assert config.option.sanitize_with == str(ROOT / "tests" / "nbval_sanitize.cfg")


def test_only_the_lessons_are_collected_as_notebooks(tmp_path):
    """Handouts written into the course (`python -m course.handouts notebooks`) are no lessons."""
    conftest = _root_conftest()
    config = _fake_config()
    for path in [
        "notebooks/read/00_setup_and_tour.ipynb",
        "notebooks/predict/01_x.ipynb",
        "handouts/read/02_decoding_widget.ipynb",
        "notebooks/my_notes.ipynb",
    ]:
        assert conftest.pytest_ignore_collect(ROOT / path, config) is True, path
    for path in [
        ROOT / "notebooks" / "00_setup_and_tour.ipynb",
        ROOT / "tests" / "test_x.py",
        tmp_path / "near.ipynb",
    ]:
        assert conftest.pytest_ignore_collect(path, config) is None, path


def _imported_modules(source: str, package: str) -> set[str]:
    """The modules of ``package`` that ``source`` imports (``from helpers.<module> import``,
    ``from helpers import <module>``, ``import helpers.<module>``)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == package and len(parts) > 1:
                found.add(parts[1])
            elif node.module == package:
                found |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == package and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_helpers_holds_what_the_notebooks_import_and_course_the_commands():
    """Two wings: every module of helpers/ is used by a lesson (imported by a notebook, or by a
    helpers module a notebook imports); helpers never imports course; no notebook imports course."""
    import nbformat

    modules = {p.stem: p.read_text() for p in (ROOT / "helpers").glob("*.py")}
    modules.pop("__init__")
    used = set()
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(nb, as_version=4).cells
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        code = "\n".join(line for line in code.splitlines() if not line.startswith(("%", "!")))
        used |= _imported_modules(code, "helpers")
        assert not _imported_modules(code, "course"), f"{nb.name} imports from course/"
    used |= _imported_modules((ROOT / "helpers" / "__init__.py").read_text(), "helpers")
    todo = list(used)
    while todo:  # what the used modules import in turn
        for name in _imported_modules(modules.get(todo.pop(), ""), "helpers") - used:
            used.add(name)
            todo.append(name)
    assert set(modules) - used == set(), "helpers/ modules no lesson uses (move them to course/)"
    for name, source in modules.items():
        assert not _imported_modules(source, "course"), f"helpers/{name}.py imports course"


def test_every_file_of_the_course_a_text_names_exists():
    """A file moved (helpers/ to course/, tests/ into its wings) leaves no stale path behind in
    the README, the guides, the model cards, the notebooks, .ci/run or the code's comments."""
    import nbformat

    texts = {
        p: p.read_text(encoding="utf-8")
        for p in [
            ROOT / "README.md",
            ROOT / ".ci" / "run",
            ROOT / "pyproject.toml",
            ROOT / "conftest.py",
            *(ROOT / "notebooks").glob("*.md"),
            *(ROOT / "models").glob("*/README.md"),
            *(ROOT / "tests").rglob("*.md"),
            *[
                p
                for d in ("helpers", "course", "tests", "benchmarks")
                for p in (ROOT / d).rglob("*.py")
            ],
        ]
    }
    for nb in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        texts[nb] = "\n".join(c.source for c in nbformat.read(nb, as_version=4).cells)
    pattern = r"(?<![\w/.-])((?:helpers|course|tests|benchmarks|tools)/[\w/]+\.(?:py|md|cfg))"
    missing = {
        (path.relative_to(ROOT).as_posix(), name)
        for path, text in texts.items()
        for name in re.findall(pattern, text)
        if not (ROOT / name).exists()
    }
    assert not missing, f"texts name files that do not exist: {sorted(missing)}"
    inits = {pkg: (ROOT / pkg / "__init__.py").read_text() for pkg in ("helpers", "course")}
    stale = {
        (path.relative_to(ROOT).as_posix(), f"{pkg}.{name}")
        for path, text in texts.items()
        for pkg, name in re.findall(r"(?<![\w/.-])(helpers|course)\.([a-z_]\w*)", text)
        if not (ROOT / pkg / f"{name}.py").exists()
        and not re.search(rf"^(def {name}\b|{name} =)", inits[pkg], re.M)
    }
    assert not stale, f"texts name modules that do not exist: {sorted(stale)}"


def test_one_formatting_rule_and_no_exceptions_to_it():
    """``ruff format`` lays out every Python file; the notebooks, laid out by hand for the
    projector, are left out of it (pyproject.toml) and held to the same line length by
    ``ruff check``. No file opts out of the rule line by line."""
    import subprocess
    import sys

    for args in (["format", "--check", "."], ["check", "."]):
        run = subprocess.run(
            [sys.executable, "-m", "ruff", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, f"ruff {' '.join(args)}:\n{run.stdout[-3000:]}"
    markers = ["fmt: " + "skip", "fmt: " + "off"]  # split, so this file holds neither
    sources = [*ROOT.glob("*.py"), *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    sources += [
        p
        for d in ("helpers", "course", "tests", "benchmarks", "tools")
        for p in (ROOT / d).rglob("*.py")
    ]
    texts = {p.name: p.read_text(encoding="utf-8") for p in sources}
    offenders = [name for name, text in texts.items() if any(m in text for m in markers)]
    assert not offenders, f"{offenders} opt out of ruff format line by line"


def test_every_lesson_module_has_its_own_test_file():
    """tests/ mirrors the wings: tests/helpers/test_<module>.py for each module of helpers/,
    tests/course/test_<module>.py for each command of course/."""
    for package in ("helpers", "course"):
        modules = {
            p.stem.lstrip("_") for p in (ROOT / package).glob("*.py") if p.stem != "__init__"
        }
        tests = {p.stem.removeprefix("test_") for p in (ROOT / "tests" / package).glob("test_*.py")}
        assert modules - tests == set(), (
            f"{package}/ modules without tests/{package}/test_<name>.py"
        )


def test_no_link_or_environment_is_tracked():
    """A checkout must not carry a link or an environment: a worktree's `.venv` link was once
    committed (the ignore rule `.venv/` matches a folder only), and a fast-forward then replaced
    a real environment with a link to itself. `.gitignore` now ignores `.venv` in any form."""
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    staged = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    links = [line.split("\t")[1] for line in staged if line.startswith("120000")]
    assert not links, f"tracked symbolic links: {links}"
    tracked = {line.split("\t")[1].split("/")[0] for line in staged}
    assert not tracked & {".venv", "venv", "site", "handouts"}
    assert ".venv" in (ROOT / ".gitignore").read_text().splitlines()
