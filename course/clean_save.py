"""Reading a notebook leaves it as it was: a Jupyter server pre-save hook.

JupyterLab's plotly extension shows a figure's stored PNG until the mouse enters it, then draws
the figure and writes a new PNG of it into the output (``Plotly.toImage`` at the size on screen).
The notebook is then modified and autosave rewrites the file, with no edit by the reader: a
clone that was only read becomes dirty and ``git pull`` refuses. The extension has no setting.

:func:`pre_save_hook` runs in the server before a notebook is written. It puts back the outputs
on disk of every code cell whose source and outputs are unchanged apart from the PNGs beside
plotly figures (and the notebook metadata, when only what JupyterLab refreshes on a kernel
start differs), so a notebook that was only read is saved byte for byte as it was. Anything else
is kept as the reader left it: an edited cell, a re-run cell's new outputs, a new or deleted cell.

The README's commands start JupyterLab with ``--config=jupyter_server_config.py`` (the file at
the repository's root), which names the hook. (Jupyter does not read a config file from the
folder it starts in, and ``pip install -e .`` does not install data files into the environment.)
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

PLOTLY = "application/vnd.plotly.v1+json"
PNG = "image/png"
#: Notebook metadata that JupyterLab rewrites from the running kernel: what the Python in use
#: reports, not a change the reader made.
KERNEL_METADATA = ("kernelspec", "language_info")


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _without_figure_png(output: dict) -> dict:
    """The output with the PNG beside a plotly figure left out; any other PNG is kept."""
    data = output.get("data")
    if not isinstance(data, dict) or PLOTLY not in data or PNG not in data:
        return output
    return {**output, "data": {k: v for k, v in data.items() if k != PNG}}


def _normal(outputs: list) -> list:
    """Outputs as JSON values, text lists joined, figure PNGs left out: equal means the same."""
    normal = []
    for output in outputs:
        output = _without_figure_png(output)
        data = output.get("data")
        if isinstance(data, dict):
            data = {k: _text(v) if isinstance(v, list) else v for k, v in data.items()}
            output = {**output, "data": data}
        if "text" in output:
            output = {**output, "text": _text(output["text"])}
        normal.append(json.loads(json.dumps(output, sort_keys=True)))
    return normal


def same_but_figure_pngs(new: dict, old: dict) -> bool:
    """Whether two code cells differ at most in the PNGs stored beside their plotly figures."""
    if new.get("cell_type") != "code" or old.get("cell_type") != "code":
        return False
    if _text(new.get("source", "")) != _text(old.get("source", "")):
        return False
    if new.get("execution_count") != old.get("execution_count"):
        return False  # the cell was run again: its outputs are the reader's
    return _normal(new.get("outputs", [])) == _normal(old.get("outputs", []))


def keep_stored_outputs(new: dict, old: dict) -> int:
    """Give ``new`` (a notebook about to be saved) ``old``'s outputs where only figure PNGs differ.

    Cells are matched by id (by position where a notebook has no ids). Also puts back ``old``'s
    kernel metadata when the metadata differ in nothing else. Changes ``new`` in place; returns
    how many cells got their stored outputs back.
    """
    old_cells = old.get("cells", [])
    by_id = {c["id"]: c for c in old_cells if "id" in c}
    kept = 0
    for i, cell in enumerate(new.get("cells", [])):
        if "id" in cell:
            stored = by_id.get(cell["id"])
        else:
            stored = old_cells[i] if i < len(old_cells) else None
        # also where the outputs compare equal: JavaScript writes a stored 1.0 back as 1
        if stored is not None and same_but_figure_pngs(cell, stored):
            kept += cell.get("outputs") != stored.get("outputs")
            cell["outputs"] = copy.deepcopy(stored["outputs"])
    new_meta, old_meta = new.get("metadata", {}), old.get("metadata", {})
    others = set(new_meta) | set(old_meta)
    others.difference_update(KERNEL_METADATA)
    if all(new_meta.get(k) == old_meta.get(k) for k in others):
        new["metadata"] = copy.deepcopy(old_meta)
    return kept


def pre_save_hook(model: dict, path: str, contents_manager: Any, **kwargs: Any) -> None:
    """Jupyter server's ``ContentsManager.pre_save_hook``: keep a read notebook as it was on disk.

    Does nothing for files other than notebooks, for a notebook not yet on disk, or for one on
    disk that is not valid JSON; never raises for a notebook it cannot read (the save goes on).
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    get_os_path = getattr(contents_manager, "_get_os_path", None)
    if get_os_path is None:
        return
    os_path = get_os_path(path)
    if not os.path.isfile(os_path):
        return
    try:
        with open(os_path, encoding="utf-8") as f:
            old = json.load(f)
    except (OSError, ValueError):
        return
    keep_stored_outputs(model["content"], old)
