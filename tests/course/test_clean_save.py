"""course/clean_save.py: a notebook that was only read is saved byte for byte as it was; a real
change (an edited cell, a re-run cell's outputs, a new cell) is always kept."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from course.clean_save import (
    PLOTLY,
    PNG,
    keep_stored_outputs,
    pre_save_hook,
    same_but_figure_pngs,
)

ROOT = Path(__file__).resolve().parents[2]


def figure(png: str = "c3RvcmVk", y=(1, 2)) -> dict:
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            PLOTLY: {"data": [{"type": "bar", "y": list(y)}], "layout": {"height": 420}},
            PNG: png,
            "text/plain": ["Figure"],
        },
    }


def notebook() -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "cells": [
            {"cell_type": "markdown", "id": "m", "metadata": {}, "source": ["# Title"]},
            {
                "cell_type": "code",
                "id": "a",
                "metadata": {},
                "execution_count": 1,
                "source": ["show()"],
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["hi\n"]},
                    figure(),
                ],
            },
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "execution_count": 2,
                "source": "x = 1",
                "outputs": [],
            },
        ],
    }


def redrawn(nb: dict, png: str = "cmVkcmF3bg==") -> dict:
    """What JupyterLab sends after the mouse went over the figure: the same, a new PNG."""
    nb = copy.deepcopy(nb)
    nb["cells"][1]["outputs"][1]["data"][PNG] = png
    return nb


def test_a_redrawn_png_gets_the_stored_one_back():
    old = notebook()
    new = redrawn(old)
    assert keep_stored_outputs(new, old) == 1
    assert new == old


def test_a_png_added_where_none_was_stored_is_dropped_again():
    old = notebook()
    del old["cells"][1]["outputs"][1]["data"][PNG]
    new = redrawn(old)
    assert keep_stored_outputs(new, old) == 1
    assert new == old


def test_text_as_a_list_or_a_string_is_the_same():
    old = notebook()
    new = redrawn(old)
    new["cells"][1]["source"] = "show()"
    new["cells"][1]["outputs"][0]["text"] = "hi\n"
    assert keep_stored_outputs(new, old) == 1
    assert new["cells"][1]["outputs"] == old["cells"][1]["outputs"]
    assert new["cells"][1]["source"] == "show()"  # the hook touches outputs only


def test_kernel_metadata_refreshed_on_kernel_start_is_put_back():
    old = notebook()
    new = redrawn(old)
    new["metadata"]["language_info"]["version"] = "3.12.1"
    keep_stored_outputs(new, old)
    assert new == old


@pytest.mark.parametrize(
    "change",
    [
        "edited source",
        "re-run",
        "new figure data",
        "new text output",
        "output cleared",
        "new metadata",
    ],
)
def test_a_real_change_is_kept(change):
    old = notebook()
    new = redrawn(old)
    cell = new["cells"][1]
    if change == "edited source":
        cell["source"] = ["show(2)"]
    elif change == "re-run":
        cell["execution_count"] = 7
    elif change == "new figure data":
        cell["outputs"][1] = figure(png="cmVkcmF3bg==", y=(3, 4))
    elif change == "new text output":
        cell["outputs"][0]["text"] = ["bye\n"]
    elif change == "output cleared":
        cell["outputs"] = []
    elif change == "new metadata":
        new["metadata"]["title"] = "mine"
    expected = copy.deepcopy(new)
    if change == "new metadata":  # the figure's PNG is still put back; the metadata stays
        expected["cells"][1]["outputs"] = old["cells"][1]["outputs"]
    keep_stored_outputs(new, old)
    assert new == expected


def test_a_plain_png_output_is_not_a_figure_png():
    old = notebook()
    old["cells"][1]["outputs"][1] = {
        "output_type": "display_data",
        "metadata": {},
        "data": {PNG: "QQ=="},
    }
    new = copy.deepcopy(old)
    new["cells"][1]["outputs"][1]["data"][PNG] = "Qg=="
    assert not same_but_figure_pngs(new["cells"][1], old["cells"][1])
    assert keep_stored_outputs(new, old) == 0
    assert new["cells"][1]["outputs"][1]["data"][PNG] == "Qg=="


def test_new_and_moved_cells():
    old = notebook()
    new = redrawn(old)
    new["cells"].reverse()  # moved: matched by id, still put back
    new["cells"].append({**copy.deepcopy(new["cells"][1]), "id": "new"})
    new["cells"][-1]["outputs"] = [figure(png="bmV3")]
    assert keep_stored_outputs(new, old) == 1
    assert new["cells"][1]["outputs"] == old["cells"][1]["outputs"]
    assert new["cells"][-1]["outputs"][0]["data"][PNG] == "bmV3"  # no stored cell of its id


def test_the_hook_in_a_jupyter_server_saves_a_read_notebook_unchanged(tmp_path):
    """Through jupyter_server's own FileContentsManager, on a stored notebook of the course."""
    from jupyter_server.services.contents.filemanager import FileContentsManager

    stored = ROOT / "notebooks" / "00_setup_and_tour.ipynb"
    shutil.copy(stored, tmp_path / stored.name)
    manager = FileContentsManager(root_dir=str(tmp_path))
    manager.register_pre_save_hook(pre_save_hook)
    content = json.loads(stored.read_text(encoding="utf-8"))
    figures = 0
    for cell in content["cells"]:
        for output in cell.get("outputs", []):
            if PLOTLY in output.get("data", {}):
                output["data"][PNG] = "cmVkcmF3bg=="
                figures += 1
    assert figures >= 1
    content["metadata"]["language_info"]["version"] = "3.99.0"
    manager.save({"type": "notebook", "content": content}, stored.name)
    assert (tmp_path / stored.name).read_bytes() == stored.read_bytes()

    content["cells"][-1]["source"] = "# an edit"  # a real change is saved
    manager.save({"type": "notebook", "content": content}, stored.name)
    assert (tmp_path / stored.name).read_bytes() != stored.read_bytes()


def test_the_hook_leaves_other_files_and_new_notebooks_alone(tmp_path):
    class Manager:
        def _get_os_path(self, path):
            return str(tmp_path / path)

    model = {"type": "file", "content": "text"}
    pre_save_hook(model, "a.txt", Manager())
    assert model == {"type": "file", "content": "text"}
    new = redrawn(notebook())
    pre_save_hook({"type": "notebook", "content": new}, "new.ipynb", Manager())
    assert new == redrawn(notebook())
    (tmp_path / "broken.ipynb").write_text("{not json")
    pre_save_hook({"type": "notebook", "content": new}, "broken.ipynb", Manager())
    assert new == redrawn(notebook())


def test_the_readme_command_loads_the_hook():
    config = (ROOT / "jupyter_server_config.py").read_text(encoding="utf-8")
    assert 'pre_save_hook = "course.clean_save.pre_save_hook"' in config
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    opens = [line for line in readme.splitlines() if "jupyter lab" in line and "notebooks/" in line]
    assert opens and all("--config=jupyter_server_config.py" in line for line in opens), opens


def test_a_float_written_back_as_an_int_gets_its_stored_form_back():
    """JupyterLab's JavaScript writes a stored 1.0 back as 1: equal in Python, not in bytes."""
    old = notebook()
    old["cells"][1]["outputs"][1]["data"][PLOTLY]["data"][0]["y"] = [1.0, 2.5]
    new = copy.deepcopy(old)
    new["cells"][1]["outputs"][1]["data"][PLOTLY]["data"][0]["y"] = [1, 2.5]
    keep_stored_outputs(new, old)
    assert json.dumps(new) == json.dumps(old)
