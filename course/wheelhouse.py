"""A folder of wheels that installs the course with no network: for a classroom with a bad one.

    python -m course.wheelhouse OUT_DIR --platform linux --python-version 3.12
    # then, on each laptop, offline:
    pip install --no-index --find-links OUT_DIR -r requirements.txt

Run it on any machine with a good connection (the wheels are those of the students' platform and
Python, not of this machine). It wraps `pip download --only-binary=:all:`: first the CPU build of
torch from PyTorch's own index on Linux (0.19 GB instead of the CUDA build and its several GB of
CUDA libraries), then everything else in requirements.txt, plus setuptools and wheel, which pip
needs to install the course's own `helpers` package (`-e .`) offline.

pip evaluates environment markers (`sys_platform == "win32"`, `platform_system == "Linux"`) for
the machine it runs on, even with `--platform`: a Windows folder built on Linux would lack
pywinpty and colorama, and take Linux-only CUDA packages. So pip runs here with its markers
evaluated for the target (`target_environment`, the PEP 508 environment of the students'
platform and Python): each folder holds exactly what that platform installs.
For teachers; not used by the lessons.
"""

from __future__ import annotations

import argparse
import json
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


#: pip, with the markers of its resolver evaluated for a target environment (argv[1], JSON)
#: instead of this machine's; argv[2:] are pip's own arguments.
PIP_FOR_TARGET = """\
import json, sys
from pip._vendor.packaging import markers
target = json.loads(sys.argv[1])
markers.default_environment = lambda: dict(target)
sys.argv = ["pip", *sys.argv[2:]]
from pip._internal.cli.main import main
sys.exit(main())
"""


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


def target_environment(tags: list[str], python_version: str) -> dict[str, str]:
    """The PEP 508 marker environment of the platform the tags name, for CPython
    `python_version` (as `packaging.markers.default_environment()` would read it there)."""
    tag = tags[0]
    if tag.startswith("win"):
        machine = {"win_amd64": "AMD64", "win_arm64": "ARM64", "win32": "x86"}.get(tag, "AMD64")
        system = ("nt", "win32", "Windows", machine)
    elif tag.startswith("macosx"):
        arch = re.sub(r"^macosx_\d+_\d+_", "", tag)  # arm64, x86_64, universal2
        system = ("posix", "darwin", "Darwin", "x86_64" if arch == "x86_64" else "arm64")
    else:  # manylinux_2_28_x86_64, musllinux_1_2_aarch64, linux_x86_64
        machine = re.sub(r"^(many|musl)?linux(1|2010|2014|_\d+_\d+)?_", "", tag)
        system = ("posix", "linux", "Linux", machine)
    os_name, sys_platform, platform_system, platform_machine = system
    full = f"{python_version}.0"  # the oldest release of that Python: the conservative choice
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": os_name,
        "platform_machine": platform_machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": platform_system,
        "platform_version": "",
        "python_full_version": full,
        "python_version": python_version,
        "sys_platform": sys_platform,
    }


def pip_for_target(tags: list[str], python_version: str) -> list[str]:
    """The start of a pip command whose markers are evaluated for the target platform."""
    env = json.dumps(target_environment(tags, python_version), sort_keys=True)
    return [sys.executable, "-c", PIP_FOR_TARGET, env]


def requirement_lines(path: Path) -> list[str]:
    """The pinned requirements of a file, without `-e .` (the course itself, built on install)."""
    lines = []
    for line in Path(path).read_text().splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith(("#", "-e", "--editable")):
            lines.append(line)
    return lines


def download_commands(
    out: Path,
    requirements: list[str],
    tags: list[str],
    python_version: str,
    cpu_torch: bool,
    index_args: tuple[str, ...] = (),
) -> list[list[str]]:
    """The pip commands that fill `out` (pure: tested without running them). `index_args`
    replace PyPI (the tests give a local folder: `--no-index --find-links DIR`)."""
    base = [
        *pip_for_target(tags, python_version),
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
    commands.append(base + [*index_args, "--find-links", str(out), *requirements, *BUILD_TOOLS])
    return commands


def check_command(
    folder: Path, requirements: list[str], tags: list[str], python_version: str
) -> list[str]:
    """pip resolving `requirements` against `folder` alone, as the target would install them
    offline (its markers, tags and Python): `pip download` into the folder itself, which finds
    every file already there and fetches nothing (`--no-index`). pip's `install --dry-run
    --python-version` would check Requires-Python against this machine's Python instead."""
    command = [
        *pip_for_target(tags, python_version),
        "download",
        "--no-index",
        "--find-links",
        str(folder),
        "--dest",
        str(folder),
        "--only-binary=:all:",
        "--python-version",
        python_version,
    ]
    for tag in tags:
        command += ["--platform", tag]
    return command + [*requirements, *BUILD_TOOLS]


def build(
    out: Path,
    requirements_file: Path,
    platform: str,
    python_version: str,
    cpu_torch: bool | None = None,
    index_args: tuple[str, ...] = (),
) -> list[Path]:
    tags = platform_tags(platform)
    if cpu_torch is None:  # PyTorch's CPU index serves Linux; Windows and macOS wheels on PyPI
        cpu_torch = any(t.startswith(("manylinux", "musllinux")) for t in tags)  # are CPU builds
    out.mkdir(parents=True, exist_ok=True)
    for command in download_commands(
        out, requirement_lines(requirements_file), tags, python_version, cpu_torch, index_args
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
    before = set(args.out.iterdir())
    check = check_command(
        args.out,
        requirement_lines(args.requirements),
        platform_tags(args.platform),
        args.python_version,
    )
    print(f"+ check: the folder alone holds what {args.platform} installs", flush=True)
    if subprocess.run(check).returncode != 0 or set(args.out.iterdir()) != before:
        parser.exit(1, f"{parser.prog}: the folder is incomplete for {args.platform}, see above\n")
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(f"checked: requirements.txt resolves for {args.platform} from this folder alone")
    print(
        f"{len(wheels)} wheels, {size:.0f} MiB, in {args.out}/. Install offline with:\n"
        f"  pip install --no-index --find-links {args.out} -r requirements.txt"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
