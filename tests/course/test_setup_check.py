"""The setup check says READY on a good install and names the fix for each kind of bad one."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import setup_check as sc

ROOT = Path(__file__).resolve().parents[2]


def test_this_environment_is_ready():
    run = subprocess.run(
        [sys.executable, "-m", "course.setup_check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.rstrip().endswith("READY")
    assert "FIX" not in run.stdout


def test_an_old_python_is_named_with_what_to_install():
    status, text = sc.check_python((3, 10, 12))
    assert status == "FIX" and "3.10.12 is too old" in text and "install Python 3.11-3.14" in text
    assert sc.check_python((3, 12, 0)) == ("ok", "Python 3.12.0 (the course supports 3.11-3.14)")
    status, text = sc.check_python((3, 15, 0))
    assert status == "note" and "newer than the course supports (3.11-3.14)" in text


def test_the_supported_pythons_are_the_readmes():
    """setup_check prints the range the README's "What works" states, and its minimum is the one
    pyproject.toml and the install's gate (tools/python_gate.py) enforce."""
    import tomllib

    readme = (sc.ROOT / "README.md").read_text()
    (listed,) = re.findall(r"\*\*What works\.\*\* Python ((?:3\.\d+(?:, | or ))+3\.\d+)", readme)
    minors = [int(v.split(".")[1]) for v in re.findall(r"3\.\d+", listed)]
    assert minors == list(range(minors[0], minors[-1] + 1)), listed  # a range, no gap
    assert sc.SUPPORTED_PYTHON == f"3.{minors[0]}-3.{minors[-1]}"
    assert f"Python 3.{minors[0] - 1} or older" in readme  # "What does not"
    pyproject = tomllib.loads((sc.ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">={}.{}".format(*sc.MINIMUM_PYTHON)
    gate = (sc.ROOT / "tools" / "python_gate.py").read_text()
    assert "MINIMUM = ({}, {})".format(*sc.MINIMUM_PYTHON) in gate
    assert f"supports {sc.SUPPORTED_PYTHON})" in sc.check_python()[1]  # what this Python prints


def test_versions_missing_or_different():
    pins = {"torch": "2.13.0", "numpy": "2.4.6"}
    assert sc.check_versions(pins, {"torch": "2.13.0+cpu", "numpy": "2.4.6"}.get)[0] == "ok"
    status, text = sc.check_versions(pins, {"torch": "2.13.0"}.get)
    assert status == "FIX" and "numpy" in text and "pip install -r requirements.txt" in text
    status, text = sc.check_versions(pins, {"torch": "2.12.0", "numpy": "2.4.6"}.get)
    assert status == "note" and "torch 2.12.0 (tested: 2.13.0)" in text
    assert sc.pinned_versions()["torch"] == "2.13.0"


def test_torch_builds():
    assert sc.check_torch_build(None, None, False)[0] == "FIX"
    status, text = sc.check_torch_build("2.13.0", "12.8", False, system="Linux")
    assert status == "note" and "download.pytorch.org/whl/cpu" in text
    assert sc.check_torch_build("2.13.0+cpu", None, False) == ("ok", "torch 2.13.0+cpu (CPU build)")
    assert sc.check_torch_build("2.13.0", "12.8", True)[0] == "ok"


def test_lab_extensions(tmp_path):
    status, text = sc.check_lab_extensions([tmp_path])
    assert status == "FIX" and "ipywidgets" in text and "plotly" in text
    for name in sc.LAB_EXTENSIONS:
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "package.json").write_text("{}")
    assert sc.check_lab_extensions([tmp_path])[0] == "ok"


def test_jupyter_from_another_environment(tmp_path):
    status, text = sc.check_jupyter_on_path(lambda _: None)
    assert status == "note" and "python -m jupyter lab" in text
    status, text = sc.check_jupyter_on_path(lambda _: "/usr/bin/jupyter", prefix=str(tmp_path))
    assert status == "note" and "python -m jupyter lab" in text


def test_model_files_missing_or_placeholders(tmp_path):
    status, text = sc.check_model(tmp_path)
    assert status == "FIX" and "model.safetensors" in text
    for name in ["config.json", "tokenizer.json", "tokenizer_config.json"]:
        (tmp_path / name).write_text("{}")
    (tmp_path / "model.safetensors").write_text("version https://git-lfs.github.com/spec/v1\n")
    status, text = sc.check_model(tmp_path)
    assert status == "FIX" and "placeholder" in text
    assert sc.check_model()[0] in ("ok", "note")


def test_memory():
    assert sc.check_memory(0.5)[0] == "FIX"
    assert sc.check_memory(8.0)[0] == "ok"
    assert sc.check_memory(None)[0] == "note"


def test_a_missing_cjk_font_is_a_note_with_what_to_install():
    from types import SimpleNamespace

    listing = "Noto Sans CJK SC,Noto Sans CJK SC Regular\nAR PL UMing CN\n"
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        return SimpleNamespace(stdout=listing)

    families = sc.cjk_font_families(which=lambda name: "/usr/bin/fc-list", run=run)
    assert calls == [["fc-list", ":lang=zh", "family"]]  # one cheap call
    assert families == ["AR PL UMing CN", "Noto Sans CJK SC"]
    assert sc.check_cjk_font(families, "Linux")[0] == "ok"
    status, text = sc.check_cjk_font([], "Linux")
    assert status == "note" and "fonts-noto-cjk" in text  # figures work, labels show boxes
    assert sc.cjk_font_families(which=lambda name: None) is None
    assert sc.check_cjk_font(None, "Darwin")[0] == "ok"
    assert sc.check_cjk_font(None, "Linux")[0] == "note"


def test_report_says_ready_only_without_fixes():
    assert sc.report([("ok", "a"), ("note", "b")]).endswith("READY")
    assert sc.report([("ok", "a"), ("FIX", "b")]).endswith(
        "NOT READY: fix the 1 line(s) marked FIX"
    )


def test_the_check_runs_the_notebooks_model_on_their_device():
    """READY only if the model the notebooks will load runs a forward pass on their device."""
    status, text = sc.check_notebook_model()
    assert status == "ok" and "tiny-shakespeare-gpt2" in text and "cpu" in text


@pytest.mark.parametrize(
    "env, said",
    [
        (
            {"GPT_COURSE_DEVICE": "cuda"},
            r"\$GPT_COURSE_DEVICE='cuda' was asked for but CUDA is not",
        ),
        ({"GPT_COURSE_MODEL": "/no/such/model"}, "model folder '/no/such/model' does not exist"),
        ({"GPT_COURSE_MODEL": "PICKLED"}, r"no \*\.safetensors weights.*pickle files"),
    ],
    ids=["cuda without a GPU", "a folder that does not exist", "pickle-only weights"],
)
def test_the_check_says_exactly_what_the_notebooks_would_hit(monkeypatch, tmp_path, env, said):
    import torch

    if env.get("GPT_COURSE_DEVICE") == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    if env.get("GPT_COURSE_MODEL") == "PICKLED":
        folder = tmp_path / "pickled"
        shutil.copytree(ROOT / "models" / "tiny-shakespeare-gpt2", folder)
        (folder / "model.safetensors").rename(folder / "pytorch_model.bin")  # a stand-in name
        env = {"GPT_COURSE_MODEL": str(folder)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, text = sc.check_notebook_model()
    assert status == "FIX" and re.search(said, text), text
    assert "NOT READY" in sc.report([("ok", "Python"), (status, text)])
