"""CITATION.cff is valid Citation File Format and says what README, pyproject.toml, the licence
files and the notebooks say: the title, version, both licences, the authors, the article."""

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CFF = ROOT / "CITATION.cff"
# README's names of the licences -> their SPDX ids, which CITATION.cff must use
SPDX = {"MIT": "MIT", "CC BY 4.0": "CC-BY-4.0"}
REFERENCE_TYPES = {"article", "blog", "book", "generic", "software", "website"}  # of CFF 1.2.0's


def load_cff(text: str) -> dict:
    """CITATION.cff as data: with PyYAML where it is installed (it comes with the course's
    packages, not as a requirement), else read by a minimal reader of the subset of YAML this file
    uses (keys, quoted or plain scalars, lists of scalars or of mappings, folded `>-` blocks)."""
    try:
        import yaml
    except ImportError:
        return _minimal_yaml(text)
    return yaml.safe_load(text)


def _scalar(s: str):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"':
        return s[1:-1]
    return s


def _minimal_yaml(text: str) -> dict:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]

    def block(i: int, indent: int):
        """Parse the block starting at line i with this indent: (value, next line)."""
        if lines[i].lstrip().startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith(" " * indent + "- "):
                rest = lines[i][indent + 2 :]
                if re.match(r"[\w-]+:", rest):  # a mapping in the list
                    lines[i] = " " * (indent + 2) + rest
                    value, i = mapping(i, indent + 2)
                else:
                    value, i = _scalar(rest), i + 1
                items.append(value)
            return items, i
        return mapping(i, indent)

    def mapping(i: int, indent: int):
        out = {}
        while i < len(lines) and len(lines[i]) - len(lines[i].lstrip()) == indent:
            key, _, rest = lines[i].strip().partition(":")
            rest, i = rest.strip(), i + 1
            if rest == ">-":
                folded = []
                while i < len(lines) and len(lines[i]) - len(lines[i].lstrip()) > indent:
                    folded.append(lines[i].strip())
                    i += 1
                out[key] = " ".join(folded)
            elif rest:
                out[key] = _scalar(rest)
            else:
                inner = len(lines[i]) - len(lines[i].lstrip())
                out[key], i = block(i, inner)
        return out, i

    return mapping(0, 0)[0]


@pytest.fixture(scope="module")
def cff():
    return load_cff(CFF.read_text(encoding="utf-8"))


def test_the_minimal_reader_reads_the_file_as_yaml_does():
    yaml = pytest.importorskip("yaml")
    text = CFF.read_text(encoding="utf-8")
    assert _minimal_yaml(text) == yaml.safe_load(text)


def test_it_is_valid_citation_file_format(cff):
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "date-released", "license"):
        assert cff.get(key), f"CITATION.cff has no {key}"
    assert cff["type"] in {"software", "dataset"}
    assert all(a.get("name") or a.get("family-names") for a in cff["authors"])
    date.fromisoformat(str(cff["date-released"]))  # YYYY-MM-DD
    for ref in cff.get("references", []):
        assert ref["type"] in REFERENCE_TYPES and ref["title"] and ref["authors"], ref
    for key in ("repository-code", "url"):  # an address only where the course names one
        if key in cff:
            assert cff[key] in (ROOT / "README.md").read_text(), f"{key} not in README"


def test_it_names_both_licences_as_the_readme_and_the_licence_files_do(cff):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Licence, reuse and citation")[1]
    named = re.findall(r"\*\*[^*]+\*\*[^:]*:\s*(MIT|CC BY 4\.0)", section)
    assert set(named) == set(SPDX), named
    assert sorted(cff["license"]) == sorted(SPDX.values())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pyproject["license"] in cff["license"]  # the package's code: MIT
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "MIT (`LICENSE`)" in content and "(CC BY 4.0)" in content


def test_it_agrees_with_readme_pyproject_and_licence(cff):
    readme = (ROOT / "README.md").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert readme.startswith(f"# {cff['title']}\n")
    assert cff["version"] == pyproject["version"]
    (author,) = [a["name"] for a in cff["authors"]]
    assert f"Copyright (c) {cff['date-released'][:4]} {author}\n" in (ROOT / "LICENSE").read_text()
    assert f"by the\n{author[4:]}" in (ROOT / "LICENSE-CONTENT.md").read_text()  # credit line


def test_it_cites_the_article_the_course_answers(cff):
    (article,) = [r for r in cff["references"] if r["type"] == "blog"]
    tour = (ROOT / "notebooks" / "00_setup_and_tour.ipynb").read_text(encoding="utf-8")
    assert f"Chinese blog article, *{article['title']}*" in tour
    assert article["languages"] == ["zh"] and article["authors"] == [{"name": "筋斗云"}]
