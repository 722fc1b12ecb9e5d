"""A folder of wheels that installs the course with no network: for a classroom with a bad one.

    python -m course.wheelhouse OUT_DIR --platform linux --python-version 3.12
    # then, on each laptop, offline:
    pip install --no-index --find-links OUT_DIR -r requirements.txt

Run it on any machine with a good connection (the wheels are those of the students' platform and
Python, not of this machine). It wraps `pip download --only-binary=:all:`: first the CPU build of
torch from PyTorch's own index on Linux (0.19 GB instead of the CUDA build and its several GB of
CUDA libraries), then everything else in requirements.txt, plus setuptools and wheel, which pip
needs to install the course's own `helpers` package (`-e .`) offline.
For teachers; not used by the lessons.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from course._cli import check_out_folder

ROOT = Path(__file__).resolve().parent.parent
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
BUILD_TOOLS = ["setuptools>=61", "wheel"]  # what `-e .` needs to build offline
# pip takes several --platform tags; older manylinux / macOS tags cover older wheels
PLATFORMS = {
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"],
    "linux-arm": ["manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"],
    "windows": ["win_amd64"],
    "macos-arm": ["macosx_14_0_arm64", "macosx_11_0_arm64"],
}


def platform_tags(name: str) -> list[str]:
    """A short name (linux, linux-arm, windows, macos-arm) or a pip platform tag itself."""
    if name in PLATFORMS:
        return PLATFORMS[name]
    if re.fullmatch(r"(manylinux|musllinux|macosx|win)[A-Za-z0-9_]*", name):
        return [name]
    raise ValueError(
        f"unknown platform {name!r}: one of {', '.join(PLATFORMS)}, "
        "or a pip platform tag such as manylinux_2_28_x86_64"
    )


def requirement_lines(path: Path) -> list[str]:
    """The pinned requirements of a file, without `-e .` (the course itself, built on install)."""
    lines = []
    for line in Path(path).read_text().splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith(("#", "-e", "--editable")):
            lines.append(line)
    return lines


def download_commands(
    out: Path, requirements: list[str], tags: list[str], python_version: str, cpu_torch: bool
) -> list[list[str]]:
    """The pip commands that fill `out` (pure: tested without running them)."""
    base = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--only-binary=:all:",
        "--dest",
        str(out),
        "--python-version",
        python_version,
    ]
    for tag in tags:
        base += ["--platform", tag]
    commands = []
    torch = [r for r in requirements if re.match(r"torch\s*==", r)]
    if cpu_torch and torch:
        commands.append(base + ["--no-deps", "--index-url", TORCH_CPU_INDEX, *torch])
    # the rest; torch's dependencies too. pip prefers the 2.13.0+cpu wheel already in `out`
    # (a local version sorts above the plain one), so no CUDA build is fetched.
    commands.append(base + ["--find-links", str(out), *requirements, *BUILD_TOOLS])
    return commands


def build(
    out: Path,
    requirements_file: Path,
    platform: str,
    python_version: str,
    cpu_torch: bool | None = None,
) -> list[Path]:
    tags = platform_tags(platform)
    if cpu_torch is None:  # PyTorch's CPU index serves Linux; Windows and macOS wheels on PyPI
        cpu_torch = any(t.startswith(("manylinux", "musllinux")) for t in tags)  # are CPU builds
    out.mkdir(parents=True, exist_ok=True)
    for command in download_commands(
        out, requirement_lines(requirements_file), tags, python_version, cpu_torch
    ):
        print("+", " ".join(command), flush=True)
        subprocess.run(command, check=True)
    return sorted(out.glob("*.whl"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.wheelhouse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", type=Path, help="folder for the wheels (created)")
    parser.add_argument(
        "--platform", required=True, help=f"{', '.join(PLATFORMS)}, or a pip platform tag"
    )
    parser.add_argument("--python-version", required=True, help="the students' Python, e.g. 3.12")
    parser.add_argument(
        "--requirements",
        type=Path,
        default=ROOT / "requirements.txt",
        help="default: the course's requirements.txt",
    )
    parser.add_argument(
        "--torch-from-pypi",
        action="store_true",
        help="on Linux, take PyPI's default (CUDA) torch instead of the CPU build",
    )
    args = parser.parse_args(argv)
    cpu = False if args.torch_from_pypi else None
    check_out_folder(parser, args.out, "wheels")
    if not re.fullmatch(r"3\.\d{1,2}", args.python_version):
        parser.error(
            f"--python-version {args.python_version!r}: give the students' Python, e.g. 3.12"
        )
    if not args.requirements.is_file():
        parser.error(f"--requirements {args.requirements}: no such file")
    try:
        platform_tags(args.platform)
        wheels = build(args.out, args.requirements, args.platform, args.python_version, cpu)
    except ValueError as err:
        parser.error(str(err))
    except subprocess.CalledProcessError as err:  # pip said why, just above
        parser.exit(
            1, f"{parser.prog}: pip download failed (exit status {err.returncode}), see above\n"
        )
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(
        f"{len(wheels)} wheels, {size:.0f} MiB, in {args.out}/. Install offline with:\n"
        f"  pip install --no-index --find-links {args.out} -r requirements.txt"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
