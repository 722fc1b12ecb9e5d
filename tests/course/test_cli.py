"""The doors of every command (course/_cli.py): a bad output folder, input or option ends the
command with one line that names it and exit status 2, before anything is written."""

from pathlib import Path

import pytest

from course import classroom, colab, handouts, site, wheelhouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "main, argv, says",
    [
        (site.main, ["{tmp}/file"], "is a file, not a folder"),
        (site.main, ["--student", "{tmp}/file"], "is a file, not a folder"),
        (site.main, ["{tmp}/file/site"], "is a file, so no folder can be made inside it"),
        (site.main, [str(ROOT / "notebooks" / "site")], "inside the course's notebooks/ folder"),
        (handouts.main, [str(ROOT / "notebooks")], "inside the course's notebooks/ folder"),
        (handouts.main, [str(ROOT / "tests" / "h")], "inside the course's tests/ folder"),
        (handouts.main, ["{tmp}/file"], "is a file, not a folder"),
        (handouts.main, ["{tmp}/a", "{tmp}/b"], "give one OUT_DIR"),
        (handouts.main, ["--tag-solutions", "{tmp}/nope.ipynb"], "no such notebook file"),
        (handouts.main, ["--tag-solutions", "{tmp}/file"], "is not a notebook (a .ipynb file)"),
        (
            wheelhouse.main,
            ["{tmp}/w", "--platform", "linux", "--python-version", "banana"],
            "--python-version 'banana'",
        ),
        (
            wheelhouse.main,
            ["{tmp}/w", "--platform", "amiga", "--python-version", "3.12"],
            "unknown platform 'amiga'",
        ),
        (
            wheelhouse.main,
            ["{tmp}/file", "--platform", "linux", "--python-version", "3.12"],
            "is a file, not a folder",
        ),
        (
            wheelhouse.main,
            [
                "{tmp}/w",
                "--platform",
                "linux",
                "--python-version",
                "3.12",
                "--requirements",
                "{tmp}/nope.txt",
            ],
            "no such file",
        ),
        (classroom.main, ["--students", "3", "--data", "{tmp}/file"], "is a file, not a folder"),
        (classroom.main, ["--roster", "{tmp}/nope.txt"], "no such file"),
        (colab.main, ["{tmp}/nope.ipynb"], "no such notebook file"),
        (colab.main, ["{tmp}/file"], "is not a notebook (a .ipynb file)"),
    ],
)
def test_a_bad_command_line_ends_with_one_line_and_status_2(tmp_path, capsys, main, argv, says):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(SystemExit) as stop:
        main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err.splitlines()[-1] and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written
    assert not (ROOT / "notebooks" / "site").exists() and not (ROOT / "tests" / "h").exists()
