"""The Chinese edition's own texts: the glossary's terms are the ones the translated notebooks
use, and README.zh.md gives the README's commands verbatim and names only files that exist.
(The translations of the notebooks and the teacher's guide themselves are checked by
tests/course/test_translate.py.)"""

import re
from pathlib import Path

import pytest

from course import translate

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "notebooks" / "zh" / "GLOSSARY.md"
README_ZH = ROOT / "README.zh.md"
CODE_SPAN = re.compile(r"`[^`\n]*`")


def glossary() -> list[dict]:
    rows = []
    for line in GLOSSARY.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in ("English", "---"):
            continue
        assert len(cells) == 4, f"GLOSSARY.md: a row has four columns: {line}"
        english, chinese, meaning, notebook = cells
        rows.append(
            {
                "english": [t.strip() for t in english.split(" / ")],
                "chinese": [t.strip() for t in chinese.split(" / ")],
                "meaning": meaning,
                "notebook": notebook,
            }
        )
    return rows


def prose(path: Path) -> str:
    """A notebook's markdown without its code spans (a term inside code is code)."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    return "\n".join(CODE_SPAN.sub(" ", c.source) for c in cells if c.cell_type == "markdown")


def test_every_glossary_row_is_complete_and_its_notebook_exists():
    rows = glossary()
    assert len(rows) >= 30
    lessons = translate.english_notebooks()
    english = [t.lower() for r in rows for t in r["english"]]
    assert len(english) == len(set(english)), "a term is in the glossary twice"
    for row in rows:
        assert row["notebook"] in lessons, f"{row['english']}: no notebook {row['notebook']}"
        assert re.search(r"[\u4e00-\u9fff]", row["meaning"]), f"{row['english']}: say it in Chinese"
        assert all(row["english"]) and all(row["chinese"])


@pytest.mark.parametrize("nn", sorted(translate.translated()))
def test_the_translated_notebooks_use_the_glossary_terms(nn):
    english = translate.english_notebooks()[nn]
    en, zh = prose(english), prose(translate.zh_notebook_path(english))
    unused = [
        f"{'/'.join(r['english'])} -> {'/'.join(r['chinese'])}"
        for r in glossary()
        if any(re.search(rf"(?i)\b{re.escape(t)}(?:s|es)?\b", en) for t in r["english"])
        and not any(t in zh for t in r["chinese"])
    ]
    assert not unused, f"{english.stem}: the English uses these terms, the Chinese not: {unused}"


def test_the_translated_guide_uses_the_glossary_terms():
    """The teacher's guide speaks of the lessons in the lessons' words (course/translate.py keeps
    notebooks/zh/TEACHING.md in step with notebooks/TEACHING.md)."""
    guide = translate.guide()
    en = CODE_SPAN.sub(" ", guide.read_text("utf-8"))
    zh = CODE_SPAN.sub(" ", translate.zh_notebook_path(guide).read_text("utf-8"))
    unused = [
        f"{'/'.join(r['english'])} -> {'/'.join(r['chinese'])}"
        for r in glossary()
        if any(re.search(rf"(?i)\b{re.escape(t)}(?:s|es)?\b", en) for t in r["english"])
        and not any(t in zh for t in r["chinese"])
    ]
    assert not unused, f"TEACHING.md uses these terms, its translation not: {unused}"


def bash_blocks(path: Path) -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", path.read_text("utf-8"), flags=re.S)


def test_readme_zh_gives_the_readmes_two_commands_verbatim():
    readme = bash_blocks(ROOT / "README.md")
    (open_cmd,) = [c for c in readme if c.endswith("notebooks/") and "pip install" in c]
    (test_cmd,) = [c for c in readme if c.endswith("python -m pytest")]
    zh = bash_blocks(README_ZH)
    assert open_cmd in zh, "README.zh.md: the install-and-open command differs from README.md's"
    assert test_cmd in zh, "README.zh.md: the test command differs from README.md's"
    assert set(zh) <= set(readme), (
        f"README.zh.md has commands README.md lacks: {set(zh) - set(readme)}"
    )


def test_readme_zh_names_only_files_and_notebooks_that_exist():
    text = README_ZH.read_text("utf-8")
    pattern = r"(?<![\w/.-])((?:helpers|course|tests|benchmarks|tools|notebooks|models)/[\w/.-]*\w)"
    missing = [name for name in re.findall(pattern, text) if not (ROOT / name).exists()]
    assert not missing, f"README.zh.md names files that do not exist: {missing}"
    modules = re.findall(r"python -m (course\.\w+)", text)
    assert modules and all((ROOT / (m.replace(".", "/") + ".py")).is_file() for m in modules)
    for path in translate.english_notebooks().values():
        assert f"`{path.stem}`" in text, f"README.zh.md does not describe {path.stem}"


def test_readme_zh_says_which_notebooks_have_a_chinese_edition():
    rows = re.findall(r"^\| `(\d\d)_\w+` \|.*\| (有|暂无) \|$", README_ZH.read_text("utf-8"), re.M)
    assert {nn for nn, _ in rows} == set(translate.english_notebooks())
    said = {nn for nn, has in rows if has == "有"}
    assert said == set(translate.translated()), "README.zh.md's 中文版 column is out of date"
