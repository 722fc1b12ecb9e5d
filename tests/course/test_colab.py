"""``python -m course.colab``: every notebook opens in Colab, whose torch stays Colab's."""

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import nbformat
import pytest

from course import colab, wheelhouse
from tests._pip import clean_pip_env

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "https://github.com/example-owner/gpt-course"


def pins(path):
    return {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in wheelhouse.requirement_lines(path)
    }


def test_colab_requirements_are_the_course_pins_without_what_colab_keeps():
    full, on_colab = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-colab.txt")
    assert set(full) - set(on_colab) == {"torch", "jupyterlab", "ipykernel"}
    assert {n: v for n, v in full.items() if n in on_colab} == on_colab  # same versions
    assert "-e" not in (ROOT / "requirements-colab.txt").read_text().split("#")[-1]


def test_the_address_comes_from_citation_cff_only(tmp_path):
    citation = tmp_path / "CITATION.cff"
    citation.write_text("cff-version: 1.2.0\ntitle: x\n")
    assert colab.repository_address(citation) is None
    citation.write_text(f'cff-version: 1.2.0\nrepository-code: "{ADDRESS}"\n')
    assert colab.repository_address(citation) == ADDRESS
    # the course names none yet: nothing may be written until it does
    assert colab.repository_address() is None or "repository-code" in colab.CITATION.read_text()
    assert colab.colab_url(ADDRESS + ".git", "notebooks/00_x.ipynb") == (
        "https://colab.research.google.com/github/example-owner/gpt-course/blob/main/"
        "notebooks/00_x.ipynb"
    )
    with pytest.raises(ValueError, match="not a GitHub address"):
        colab.colab_url("https://gitlab.com/a/b", "notebooks/00_x.ipynb")


def copy_course(tmp_path, address=ADDRESS):
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    for nb in sorted((ROOT / "notebooks").glob("0[0-2]_*.ipynb")):
        shutil.copy(nb, root / "notebooks")
    citation = root / "CITATION.cff"
    citation.write_text(
        f"cff-version: 1.2.0\nrepository-code: {address}\n" if address else "x: 1\n"
    )
    return root, citation


def test_the_command_refuses_to_write_without_an_address(tmp_path, capsys):
    root, citation = copy_course(tmp_path, address=None)
    before = {p: p.read_bytes() for p in root.rglob("*.ipynb")}
    with pytest.raises(SystemExit) as exit_:
        colab.main(["--root", str(root), "--citation", str(citation)])
    assert exit_.value.code == 2
    assert "no public address yet" in capsys.readouterr().err
    assert before == {p: p.read_bytes() for p in root.rglob("*.ipynb")}


def test_the_command_inserts_then_updates_two_cells_with_fixed_ids(tmp_path, capsys):
    root, citation = copy_course(tmp_path)
    argv = ["--root", str(root), "--citation", str(citation)]
    assert colab.main(argv) == 0
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        original = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
        assert nb.cells[0].id == colab.BADGE_ID and nb.cells[0].cell_type == "markdown"
        assert f"blob/main/notebooks/{path.name})" in nb.cells[0].source
        setup = next(c for c in nb.cells if c.cell_type == "code")
        assert setup.id == colab.SETUP_ID and ADDRESS in setup.source
        assert colab.without_colab_cells(nb).cells == original.cells  # nothing else moved
    first = {p: p.read_bytes() for p in (root / "notebooks").glob("*.ipynb")}
    assert colab.main(argv) == 0  # a second run changes nothing
    assert first == {p: p.read_bytes() for p in (root / "notebooks").glob("*.ipynb")}
    assert "unchanged" in capsys.readouterr().out
    citation.write_text("repository-code: https://github.com/another/place\n")
    assert colab.main([*argv, "--branch", "v1"]) == 0  # updated in place, not added again
    nb = nbformat.read(root / "notebooks" / "00_setup_and_tour.ipynb", as_version=4)
    assert [c.id for c in nb.cells].count(colab.SETUP_ID) == 1
    assert "another/place/blob/v1/" in nb.cells[0].source
    assert (
        "github.com/another/place" in nb.cells[[c.id for c in nb.cells].index("colab-setup")].source
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["no-such.ipynb"], "no such notebook file"),
        (["README.md"], "not a notebook"),
        (["--branch", "main; rm -rf /"], "a branch name"),
    ],
)
def test_the_door_refuses_bad_arguments(argv, message, capsys):
    argv = [str(ROOT / a) if a.endswith((".md", ".ipynb")) else a for a in argv]
    with pytest.raises(SystemExit) as exit_:
        colab.main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def run_cell(source, monkeypatch, in_colab, exists=False):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr("os.chdir", lambda path: calls.append(["chdir", path]))
    monkeypatch.setattr("os.path.isdir", lambda path: exists)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path = list(sys.path)
    try:
        exec(source, {})
    finally:
        sys.path[:] = path
    return calls


def test_the_cell_does_nothing_outside_colab_and_keeps_colabs_torch_inside(monkeypatch):
    source = colab.setup_source(ADDRESS)
    assert run_cell(source, monkeypatch, in_colab=False) == []
    clone, reqs, course, chdir = run_cell(source, monkeypatch, in_colab=True)
    assert clone == ["git", "clone", "--depth=1", ADDRESS, "/content/course"]
    assert reqs[-2:] == ["-r", "/content/course/requirements-colab.txt"]
    assert course[-3:] == ["--no-deps", "-e", "/content/course"]
    assert not any("torch" in arg for cmd in (reqs, course) for arg in cmd)
    assert chdir == ["chdir", "/content/course/notebooks/"]
    again = run_cell(source, monkeypatch, in_colab=True, exists=True)  # a second run: no clone
    assert len(again) == 3 and again[0][-2:] == reqs[-2:]
    # plotly's renderer is Colab's: setup_notebook leaves it alone there
    assert 'if "google.colab" in sys.modules' in (ROOT / "helpers" / "__init__.py").read_text()


def fake_wheel(folder: Path, name: str, version: str, metadata_lines=()):
    """A wheel with only the metadata (name, version, dependencies) of a distribution."""
    stem = f"{re.sub(r'[-_.]+', '_', name)}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"{line}\n" for line in metadata_lines
    )
    files = {
        f"{stem}.dist-info/METADATA": meta,
        f"{stem}.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{stem}.dist-info/RECORD"] = "".join(f"{f},,\n" for f in files) + (
        f"{stem}.dist-info/RECORD,,\n"
    )
    with zipfile.ZipFile(folder / f"{stem}-py3-none-any.whl", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)


def test_installing_the_colab_requirements_keeps_another_torch(tmp_path):
    """Colab simulated offline: a venv whose torch is 2.9.1 (metadata only), and an index of
    wheels that carry the real dependency metadata of every package this environment has at
    the pinned versions. pip installs requirements-colab.txt from it; torch stays 2.9.1."""
    index = tmp_path / "index"
    index.mkdir()
    seen = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name.lower() in seen or name.lower() == "torch":
            continue
        seen.add(name.lower())
        lines = [
            f"{key}: {value}"
            for key in ("Requires-Dist", "Provides-Extra", "Requires-Python")
            for value in dist.metadata.get_all(key) or []
        ]
        fake_wheel(index, name, dist.version, lines)
    venv = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    colab_torch = site / "torch-2.9.1.dist-info"
    colab_torch.mkdir()
    (colab_torch / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.9.1\n")
    (colab_torch / "INSTALLER").write_text("colab\n")
    (colab_torch / "RECORD").write_text("")
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
        + ["--no-index", "--find-links", str(index), "--report", str(report)]
        + ["-r", str(ROOT / "requirements-colab.txt")],
        capture_output=True,
        text=True,
        env=clean_pip_env(),  # offline: only the index above (~5 s)
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    installed = {i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]}
    assert "transformers" in installed and "torch" not in installed
    versions = {p.name for p in site.glob("torch-*.dist-info")}
    assert versions == {"torch-2.9.1.dist-info"}, versions
