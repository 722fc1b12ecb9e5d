"""Setup check: is this computer ready for the course? Prints READY, or exactly what to fix.

    python -m course.setup_check

Run it from the course folder with the course's environment active (README, "Set up"). It checks
the Python version, the installed versions against requirements.txt, the torch build, the
JupyterLab extensions that draw widgets (notebook 02) and plotly figures (every notebook), the
bundled model's files, then does what every notebook does first: loads the model the notebooks
will load ($GPT_COURSE_MODEL or the bundled one) on their device ($GPT_COURSE_DEVICE or the CPU)
and runs one forward pass. Then whether a font with Chinese characters is there for figures
(`fc-list`, on Linux), last, free memory. Each line starts with `ok`, `FIX` (the course will not
work until you do what it says) or `note` (works, but worth knowing). Exit status 0 means READY.

Written for any Python 3 (no newer syntax), so that an old Python gets a clear answer too.
Taught in: notebook 00 (setup and tour).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "tiny-shakespeare-gpt2"
# The Pythons the pinned requirements have wheels for, as the README's "What works" says (tested
# against it in tests/course/test_setup_check.py, and the minimum against pyproject.toml's
# requires-python and tools/python_gate.py).
MINIMUM_PYTHON = (3, 11)
NEWEST_PYTHON = (3, 14)
SUPPORTED_PYTHON = "{}.{}-{}.{}".format(*MINIMUM_PYTHON, *NEWEST_PYTHON)
# the largest notebook kernel peaks at about 1 GB (benchmarks/bench_memory.py), JupyterLab ~0.2 GB
NEEDED_FREE_GB = 1.5
LAB_EXTENSIONS = {
    "@jupyter-widgets/jupyterlab-manager": "ipywidgets (the widget of notebook 02)",
    "jupyterlab-plotly": "plotly (every figure)",
}
REINSTALL = "pip install -r requirements.txt (with the course's .venv active)"


def check_python(version_info=sys.version_info):
    found = ".".join(str(v) for v in version_info[:3])
    if tuple(version_info[:2]) > NEWEST_PYTHON:
        return "note", (
            f"Python {found} is newer than the course supports ({SUPPORTED_PYTHON}): if a package "
            f"fails to install, use Python {SUPPORTED_PYTHON}"
        )
    if tuple(version_info[:2]) >= MINIMUM_PYTHON:
        return "ok", f"Python {found} (the course supports {SUPPORTED_PYTHON})"
    return "FIX", (
        f"Python {found} is too old: install Python {SUPPORTED_PYTHON} (python.org or your "
        "package manager), delete .venv and run the README's install command with it"
    )


def pinned_versions(path=ROOT / "requirements.txt"):
    """{name: version} of every `name==version` line of a requirements file."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==(\S+)\s*$", line)
        if m:
            pins[m.group(1)] = m.group(2)
    return pins


def installed_version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_versions(pins, installed=installed_version):
    missing = [n for n in pins if installed(n) is None]
    if missing:
        return "FIX", f"not installed: {', '.join(missing)}; run {REINSTALL}"
    # a local label (+cpu, +cu128) is a build of the same release
    wrong = [
        f"{n} {installed(n)} (tested: {v})"
        for n, v in pins.items()
        if installed(n).split("+")[0] != v
    ]
    if wrong:
        return "note", f"other versions than tested: {', '.join(wrong)}; {REINSTALL} to match"
    return "ok", f"the {len(pins)} pinned packages of requirements.txt, at their tested versions"


def check_torch_build(version, cuda_version, cuda_available, system=None):
    """The torch build: CPU, or CUDA with a GPU, or CUDA without one (gigabytes for nothing)."""
    system = system or platform.system()
    if version is None:
        return "FIX", f"torch is not installed; run {REINSTALL}"
    if cuda_version and not cuda_available and system == "Linux":
        return "note", (
            f"torch {version} is the CUDA build (several GB) but no GPU is usable; the course "
            "needs only the CPU build: pip uninstall -y torch && pip install torch==2.13.0 "
            "--index-url https://download.pytorch.org/whl/cpu"
        )
    kind = f"CUDA {cuda_version} build, GPU usable" if cuda_available else "CPU build"
    return "ok", f"torch {version} ({kind})"


def lab_extension_dirs():
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return []
    return [Path(p) for p in jupyter_path("labextensions")]


def check_lab_extensions(dirs):
    absent = [
        f"{name} for {why}"
        for name, why in LAB_EXTENSIONS.items()
        if not any((d / name / "package.json").is_file() for d in dirs)
    ]
    if absent:
        return "FIX", (
            f"JupyterLab extension missing: {'; '.join(absent)}. Run {REINSTALL}, then restart "
            "JupyterLab"
        )
    return "ok", "JupyterLab extensions for widgets and plotly figures"


def check_jupyter_on_path(which=shutil.which, prefix=sys.prefix):
    found = which("jupyter")
    if found is None:  # the environment is not activated; `python -m jupyter` still works
        return "note", (
            "no `jupyter` command on PATH (environment not activated?): start JupyterLab with "
            "`python -m jupyter lab --config=jupyter_server_config.py notebooks/`, using this "
            "Python"
        )
    if not Path(found).resolve().is_relative_to(Path(prefix).resolve()):
        return "note", (
            f"`jupyter` on PATH is {found}, not this environment's ({prefix}): start JupyterLab "
            "with `python -m jupyter lab --config=jupyter_server_config.py notebooks/` so that it "
            "uses the course's packages"
        )
    return "ok", "`jupyter` is this environment's"


def check_model(folder=MODEL):
    names = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        return "FIX", (
            f"the bundled model lacks {', '.join(missing)} in {folder}: download the course "
            "again (git clone, or the whole ZIP)"
        )
    weights = folder / "model.safetensors"
    if weights.stat().st_size < 1_000_000:  # a Git LFS pointer is ~130 bytes
        return "FIX", (
            f"{weights.name} is only {weights.stat().st_size} bytes (a placeholder, not the "
            "weights): download the course again, as a ZIP or with a full git clone"
        )
    if os.environ.get("GPT_COURSE_MODEL"):
        return "note", (
            f"GPT_COURSE_MODEL={os.environ['GPT_COURSE_MODEL']} is set: the notebooks load that "
            "model, not the bundled one (their stored outputs are the bundled model's)"
        )
    return "ok", f"bundled model ({weights.stat().st_size / 2**20:.1f} MiB of weights)"


def check_notebook_model(load=None):
    """What every notebook does first: load its model (the same call, so $GPT_COURSE_MODEL and
    $GPT_COURSE_DEVICE count) and run one forward pass. Any failure is quoted, as it would
    appear in the notebook."""
    try:
        import torch

        if load is None:
            from helpers.models import load_model as load
        model, tokenizer = load()
        ids = torch.tensor([tokenizer("To be")["input_ids"]], device=model.device)
        with torch.no_grad():
            logits = model(ids).logits  # (1, T, V)
        if tuple(logits.shape) != (1, ids.shape[1], model.config.vocab_size):
            raise ValueError(f"logits of shape {tuple(logits.shape)}, not (1, T, vocab_size)")
    except Exception as err:  # noqa: BLE001 -- any failure is the answer: say it as it is
        return "FIX", (
            f"the notebooks cannot run their model: {type(err).__name__}: {str(err)[:400]}"
        )
    name = Path(str(model.name_or_path)).name or str(model.name_or_path)
    return (
        "ok",
        f"the notebooks' model ({name}) loads on {model.device.type} and runs a forward pass",
    )


CJK_FONT_HINT = (
    "install one (Debian, Ubuntu, ChromeOS's Linux: sudo apt install fonts-noto-cjk; Fedora: "
    "sudo dnf install google-noto-sans-cjk-fonts)"
)


def cjk_font_families(which=shutil.which, run=subprocess.run):
    """Font families with Chinese characters (`fc-list :lang=zh family`), or None where there
    is no fontconfig to ask (Windows, macOS) or it does not answer within 10 s."""
    if which("fc-list") is None:
        return None
    try:
        out = run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})


def check_cjk_font(families, system=None):
    """Figures with Chinese labels (notebook 00's tokens, the Chinese edition) drawn into PNGs
    here need a font with those characters, or they show boxes. Windows and macOS ship one."""
    system = system or platform.system()
    if families is None:
        if system in ("Windows", "Darwin"):
            return "ok", f"{system} ships fonts with Chinese characters for the figures"
        return "note", (
            "could not ask fontconfig (fc-list) for a font with Chinese characters; figures "
            f"with Chinese labels may show boxes without one: {CJK_FONT_HINT}"
        )
    if not families:
        return "note", (
            "no font with Chinese characters: figures with Chinese labels will show boxes; "
            + CJK_FONT_HINT
        )
    return "ok", f"a font with Chinese characters for the figures ({families[0]})"


def free_memory_gb():
    try:
        import psutil

        return psutil.virtual_memory().available / 2**30
    except ImportError:
        pass
    try:
        text = Path("/proc/meminfo").read_text()
        return int(re.search(r"MemAvailable:\s+(\d+) kB", text).group(1)) / 2**20
    except (OSError, AttributeError):
        return None


def check_memory(free_gb, needed_gb=NEEDED_FREE_GB):
    if free_gb is None:
        return "note", f"free memory unknown here; the course needs about {needed_gb} GB"
    if free_gb < needed_gb:
        return "FIX", (
            f"only {free_gb:.1f} GB of memory free, the course needs {needed_gb} GB: close other "
            "programs (browser tabs), or run one notebook at a time (Kernel -> Shut Down Kernel)"
        )
    return "ok", f"{free_gb:.1f} GB of memory free (a notebook needs up to {needed_gb} GB)"


def run_checks():
    results = [check_python()]
    if results[0][0] == "FIX":  # nothing else can be right with the wrong Python
        return results
    results.append(check_versions(pinned_versions()))
    try:
        import torch

        torch_build = check_torch_build(
            torch.__version__, torch.version.cuda, torch.cuda.is_available()
        )
    except ImportError:
        torch_build = check_torch_build(None, None, False)
    results.append(torch_build)
    results += [
        check_lab_extensions(lab_extension_dirs()),
        check_jupyter_on_path(),
        check_model(),
    ]
    if torch_build[0] != "FIX":  # without torch, its line already says what to do
        results.append(check_notebook_model())
    results.append(check_cjk_font(cjk_font_families()))
    results.append(check_memory(free_memory_gb()))
    return results


def report(results):
    lines = [f"{status:<5} {text}" for status, text in results]
    to_fix = sum(status == "FIX" for status, _ in results)
    lines.append("READY" if not to_fix else f"NOT READY: fix the {to_fix} line(s) marked FIX")
    return "\n".join(lines)


def main():
    results = run_checks()
    print(report(results))
    return 0 if all(status != "FIX" for status, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
