"""Execute notebooks top to bottom in a fresh kernel and store their outputs, cleanly.

    python tests/store_outputs.py notebooks/NN_name.ipynb [...]     # or no argument: all
    python tests/store_outputs.py --alt-only [notebooks...]        # only the PNGs' alt texts

Like `jupyter nbconvert --execute --inplace`, but it drops the per-cell execution timestamps
(they change on every run and mean nothing to a reader), stores a PNG beside every figure
(kaleido drives Debian's Chromium; nbval does not compare images) with its alt text (the
figure's title and what it shows, ``helpers.plots.figure_alt``), and prints each notebook's run
time.
"""

import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.messages import notebook_lang
from helpers.plots import figure_alt

ROOT = Path(__file__).resolve().parent.parent
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def store(path: Path) -> float:
    os.environ["GPT_COURSE_FIGURE_PNG"] = "1"  # a PNG beside every figure (helpers.figure_renderer)
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    seconds = time.perf_counter() - t0
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
        if "outputs" in cell:  # one output per stream: how the kernel split it varies by run
            cell.outputs = coalesce_streams(cell.outputs)
    add_alt_text(nb)
    nb = stable_widget_ids(nb, path.stem)
    nbformat.write(nb, path)
    return seconds


def coalesce_streams(outputs: list) -> list:
    """Neighbouring outputs of one stream as one: the kernel sends a cell's prints in chunks
    that vary from run to run, so each store would split them differently."""
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if out.output_type == "stream" and last is not None and last.output_type == "stream":
            if last.name == out.name:
                last.text += out.text
                continue
        merged.append(out)
    return merged


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def stable_widget_ids(nb, name: str):
    """The same widget ids on every run: ipywidgets names each widget by a random uuid, so each
    store would rewrite every id of the saved widget state (7,500 changed lines in notebook 02)
    and two branches that both re-store a notebook would conflict. The widgets are numbered in
    a fixed order (those the outputs display, in cell order, each followed depth-first by the
    widgets it refers to; then the rest by their content) and renamed from that number."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return nb
    uuid = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")  # also inside IPY_MODEL_<id>
    text = {k: json.dumps(v, sort_keys=True) for k, v in state.items()}
    order: list[str] = []

    def visit(key: str) -> None:
        if key in state and key not in order:
            order.append(key)
            for ref in re.findall(r"IPY_MODEL_([0-9a-f]{32})", text[key]):
                visit(ref)

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            visit(out.get("data", {}).get(WIDGET_VIEW, {}).get("model_id", ""))
    order += sorted((k for k in state if k not in order), key=lambda k: uuid.sub("", text[k]))
    new = {old: hashlib.md5(f"{name}:{i}".encode()).hexdigest() for i, old in enumerate(order)}
    whole = uuid.sub(lambda m: new.get(m[0], m[0]), nbformat.writes(nb))
    return nbformat.reads(whole, as_version=4)


def add_alt_text(nb) -> int:
    """Store each figure's alt text beside its PNG, in the notebook's language (a Chinese
    notebook's figures are drawn in Chinese: the sentence around their words is Chinese too);
    return how many figures have one."""
    n, lang = 0, notebook_lang(nb)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME in data and "image/png" in data:
                alt = figure_alt(data[PLOTLY_MIME], lang)
                out.setdefault("metadata", {})["image/png"] = {"alt": alt}
                n += 1
    return n


def refuse_other_setups() -> None:
    """Stored outputs are those of the bundled model on the CPU: refuse anything else."""
    set_vars = [v for v in ("GPT_COURSE_MODEL", "GPT_COURSE_DEVICE") if os.environ.get(v)]
    if set_vars:
        sys.exit(
            f"store_outputs: {' and '.join(set_vars)} is set, so the notebooks would store another "
            "model's or device's outputs, which the tests compare against the bundled model on "
            f"the CPU. Unset it (e.g. `env -u {set_vars[0]} python tests/store_outputs.py ...`)."
        )


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Execute notebooks and store their outputs.")
    parser.add_argument("paths", nargs="*", type=Path, help="default: every notebook")
    parser.add_argument(
        "--alt-only",
        action="store_true",
        help="only (re)write the alt texts, from the stored figures",
    )
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.alt_only:
        for p in paths:
            nb = nbformat.read(p, as_version=4)
            print(f"{p.name}: alt text for {add_alt_text(nb)} figures", flush=True)
            nbformat.write(nb, p)
        return
    refuse_other_setups()
    for p in paths:
        print(f"{p.name}: executed and stored in {store(p):.1f} s", flush=True)


if __name__ == "__main__":
    main()
