"""Build backend of the course: setuptools, behind a check that this Python can run the course.

`pip install -r requirements.txt` installs `-e .` (this project) first, and pip asks the build
backend for the project's metadata before it looks up any other requirement. So a Python that is
too old stops here, with a message that says what to install, instead of at a pinned numpy or
pandas release that does not exist for it ("No matching distribution found").
"""

import sys

MINIMUM = (3, 11)
TESTED = "3.11"


def python_problem(version_info=sys.version_info, minimum=MINIMUM):
    """The message for a Python that cannot run the course, or None when it can."""
    if tuple(version_info[:2]) >= minimum:
        return None
    found = ".".join(str(v) for v in version_info[:3])
    need = ".".join(str(v) for v in minimum)
    return (
        f"\n\nThis course needs Python {need} or newer (tested with {TESTED}); this is Python "
        f"{found} ({sys.executable}).\nIts pinned numpy, pandas and transformers have no release "
        f"for Python {found}.\nInstall Python 3.12 (python.org, `brew install python@3.12`, "
        "`winget install Python.Python.3.12`, or `sudo apt install python3.12-venv` where your "
        "Linux offers it), delete the .venv folder, and run the README's command again with "
        "that Python (`python3.12 -m venv .venv`, or `py -3.12 -m venv .venv` on Windows).\n"
    )


_problem = python_problem()
if _problem:
    sys.exit(_problem)

from setuptools.build_meta import *  # noqa: E402, F403  (the real backend)
