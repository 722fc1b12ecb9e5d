"""``python -m course.wheelhouse``: the offline wheel folder for a classroom."""

import json
import shutil
import subprocess
import sys
import zipfile
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


def test_markers_are_those_of_the_target_not_of_the_builder():
    windows = wheelhouse.target_environment(wheelhouse.platform_tags("windows"), "3.12")
    assert windows["sys_platform"] == "win32" and windows["platform_system"] == "Windows"
    assert windows["os_name"] == "nt" and windows["platform_machine"] == "AMD64"
    assert windows["python_version"] == "3.12" and windows["python_full_version"] == "3.12.0"
    mac = wheelhouse.target_environment(wheelhouse.platform_tags("macos-arm"), "3.13")
    assert (mac["sys_platform"], mac["platform_system"], mac["platform_machine"]) == (
        "darwin",
        "Darwin",
        "arm64",
    )
    arm = wheelhouse.target_environment(wheelhouse.platform_tags("linux-arm"), "3.11")
    assert (arm["sys_platform"], arm["platform_machine"]) == ("linux", "aarch64")
    assert wheelhouse.target_environment(["musllinux_1_2_x86_64"], "3.12")["platform_machine"] == (
        "x86_64"
    )
    intel_mac = wheelhouse.target_environment(["macosx_10_13_x86_64"], "3.12")
    assert intel_mac["platform_machine"] == "x86_64"
    cmd = wheelhouse.download_commands(Path("w"), ["numpy==2.4.6"], ["win_amd64"], "3.12", False)
    assert cmd[0][1] == "-c" and json.loads(cmd[0][3]) == windows and cmd[0][4] == "download"


def fake_wheel(folder: Path, name: str, version: str, requires=()):
    """A pure-Python wheel with only metadata, enough for pip to resolve and download it."""
    dist = f"{name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{name}/__init__.py": "",
        f"{dist}/METADATA": meta,
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{f},,\n" for f in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)


def test_a_folder_built_on_linux_for_windows_or_macos_holds_what_that_platform_needs(tmp_path):
    """pip alone evaluates `sys_platform == "win32"` for the machine it runs on: a Windows folder
    built here would lack pywinpty and take the Linux-only CUDA package. Offline, on a local
    index of metadata-only wheels."""
    index = tmp_path / "index"
    index.mkdir()
    fake_wheel(
        index,
        "course_app",
        "1.0",
        [
            'winpty_like; sys_platform == "win32"',
            'cuda_like; platform_system == "Linux" and platform_machine == "x86_64"',
            'appnope_like; platform_system == "Darwin"',
            'new_python_only; python_version >= "3.13"',
        ],
    )
    for name in ("winpty_like", "cuda_like", "appnope_like", "new_python_only"):
        fake_wheel(index, name, "1.0")
    fake_wheel(index, "setuptools", "80.0")
    fake_wheel(index, "wheel", "0.45.0")
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("course_app==1.0\n")
    offline = ("--no-index", "--find-links", str(index))
    expected = {
        "windows": {"winpty_like"},
        "macos-arm": {"appnope_like", "new_python_only"},
        "linux": {"cuda_like"},
    }
    for target, wanted in expected.items():
        python = "3.13" if target == "macos-arm" else "3.12"
        out = tmp_path / target
        wheels = wheelhouse.build(out, reqs, target, python, cpu_torch=False, index_args=offline)
        names = {w.name.split("-")[0] for w in wheels} - {"course_app", "setuptools", "wheel"}
        assert names == wanted, (target, names)


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


def torch_cpu_index_reachable():
    """PyTorch's CPU index serves the Linux folders' torch; some machines reach only PyPI."""
    import socket
    from urllib.parse import urlparse

    try:
        socket.create_connection((urlparse(wheelhouse.TORCH_CPU_INDEX).hostname, 443), 5).close()
    except OSError:
        return False
    return True


@pytest.mark.commands  # downloads the course's wheels for each target (~0.2-1 GB each)
@pytest.mark.parametrize("target", ["windows", "macos-arm", "linux", "linux-arm"])
def test_a_real_folder_installs_the_course_on_its_target_alone(tmp_path, target, capsys):
    """The folder for each target, built here, resolves requirements.txt with nothing else
    (`pip install --dry-run --no-index --find-links DIR`, the target's markers, tags and Python):
    the completeness check `main` runs last. No Linux-only CUDA package outside Linux x86_64,
    and the target's own conditional dependencies are in."""
    if target.startswith("linux") and not torch_cpu_index_reachable():
        pytest.skip("PyTorch's CPU index is not reachable from here")
    out = tmp_path / target
    argv = [str(out), "--platform", target, "--python-version", "3.12"]
    assert wheelhouse.main(argv) == 0
    assert "checked:" in capsys.readouterr().out
    names = {w.name.split("-")[0].lower() for w in out.glob("*.whl")}
    if target != "linux":
        assert not {n for n in names if n.startswith("nvidia")}, names
    if target == "windows":
        assert {"pywinpty", "colorama"} <= names
    if target == "macos-arm":
        assert "appnope" in names and "pywinpty" not in names
    size = sum(w.stat().st_size for w in out.glob("*.whl")) / 2**20
    print(f"wheel folder for {target}, Python 3.12: {len(names)} wheels, {size:.0f} MiB")
