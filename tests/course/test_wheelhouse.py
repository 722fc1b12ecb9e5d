"""``python -m course.wheelhouse``: the offline wheel folder for a classroom."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import wheelhouse
from tests._pip import clean_pip_env

ROOT = Path(__file__).resolve().parents[2]


def test_wheelhouse_commands_take_cpu_torch_binaries_for_the_students_platform(tmp_path):
    reqs = ["torch==2.13.0", "numpy==2.4.6"]
    tags = wheelhouse.platform_tags("linux")
    cmds = wheelhouse.download_commands(tmp_path, reqs, tags, "3.12", cpu_torch=True)
    torch_cmd, rest = cmds
    for cmd in cmds:
        assert "--only-binary=:all:" in cmd and cmd[cmd.index("--python-version") + 1] == "3.12"
        assert cmd.count("--platform") == len(tags) and "manylinux_2_28_x86_64" in cmd
    assert torch_cmd[-1] == "torch==2.13.0" and "--no-deps" in torch_cmd
    assert torch_cmd[torch_cmd.index("--index-url") + 1] == wheelhouse.TORCH_CPU_INDEX
    assert "--find-links" in rest and "setuptools>=61" in rest and "numpy==2.4.6" in rest
    windows = wheelhouse.download_commands(tmp_path, reqs, ["win_amd64"], "3.12", cpu_torch=False)
    assert len(windows) == 1 and "--index-url" not in windows[0]
    assert wheelhouse.requirement_lines(ROOT / "requirements.txt")[0] == "torch==2.13.0"
    with pytest.raises(ValueError, match="unknown platform 'amiga'"):
        wheelhouse.platform_tags("amiga")


def network_namespace_available():
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.commands  # a wheel folder built and installed: run by .ci/run (tests/README.md)
@pytest.mark.skipif(not network_namespace_available(), reason="needs `unshare -n` (root)")
def test_a_wheelhouse_installs_with_only_loopback(tmp_path):
    """A small wheelhouse (one pinned package and a project built by the course's gate backend),
    installed inside a network namespace whose only interface is loopback."""
    project = tmp_path / "probe"
    (project / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "python_gate.py", project / "tools")
    (project / "probe_pkg").mkdir()
    (project / "probe_pkg" / "__init__.py").write_text("ANSWER = 42\n")
    build_system = (ROOT / "pyproject.toml").read_text().split("[project]")[0]
    (project / "pyproject.toml").write_text(
        build_system + '[project]\nname = "probe-pkg"\n'
        'version = "0"\ndependencies = ["tqdm"]\n[tool.setuptools]\npackages = ["probe_pkg"]\n'
    )
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"-e {project}\ntqdm==4.70.1\n")
    wheels = tmp_path / "wheels"
    assert (
        wheelhouse.main(
            [
                str(wheels),
                "--platform",
                "linux",
                "--python-version",
                f"{sys.version_info.major}.{sys.version_info.minor}",
                "--requirements",
                str(reqs),
            ]
        )
        == 0
    )
    assert any(p.name.startswith("tqdm-4.70.1") for p in wheels.iterdir())
    venv = tmp_path / "venv"
    # no pip of its own (saves ~5 s): this Python's pip installs into it (`pip --python`)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    offline = ["unshare", "-n"]
    probe = subprocess.run(
        offline
        + [
            str(venv / "bin" / "python"),
            "-c",
            "import socket; socket.create_connection(('pypi.org', 443), 3)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode != 0, "the namespace must have no network"
    run = subprocess.run(
        offline
        + [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-index",
            "--find-links",
            str(wheels),
            "-r",
            str(reqs),
        ],
        capture_output=True,
        text=True,
        env=clean_pip_env(),
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    check = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import probe_pkg, tqdm; print(probe_pkg.ANSWER, tqdm.__version__)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.stdout.split() == ["42", "4.70.1"], check.stderr
