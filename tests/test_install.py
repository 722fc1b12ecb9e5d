"""The install works on a room of mixed laptops: a clear stop on an old Python, offline wheels."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import python_gate  # noqa: E402

from tests._pip import clean_pip_env  # noqa: E402


def test_the_gate_names_what_to_install():
    assert python_gate.python_problem((3, 11, 0)) is None
    assert python_gate.python_problem((3, 14, 1)) is None
    message = python_gate.python_problem((3, 10, 12))
    assert "needs Python 3.11 or newer" in message and "3.10.12" in message
    assert "Install Python 3.12" in message and "delete the .venv" in message
    assert "python 3.9" in python_gate.python_problem((3, 9, 6)).lower()


def test_pyproject_uses_the_gate_and_states_the_python():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'build-backend = "python_gate"' in text and 'backend-path = ["tools"]' in text
    assert f'requires-python = ">={".".join(map(str, python_gate.MINIMUM))}"' in text


def test_pip_stops_at_the_gate_before_any_missing_pin(tmp_path):
    """A too-old Python, simulated by raising the gate's minimum in a copy of the project."""
    project = tmp_path / "course"
    project.mkdir()
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "tools", project / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    for package in ("helpers", "course"):
        shutil.copytree(
            ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    gate = project / "tools" / "python_gate.py"
    gate.write_text(gate.read_text().replace("MINIMUM = (3, 11)", "MINIMUM = (3, 99)"))
    # a pin that exists for no Python comes FIRST: the gate must still speak before it
    (tmp_path / "req.txt").write_text(f"numpy==0.0.1\n-e {project}\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--no-build-isolation",
            "-r",
            str(tmp_path / "req.txt"),
        ],
        capture_output=True,
        text=True,
        env=clean_pip_env(),
        timeout=120,
    )
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert "This course needs Python 3.99 or newer" in out, out[-3000:]
    assert "No matching distribution" not in out
