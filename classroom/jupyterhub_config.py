"""JupyterHub settings of the course's classroom server: started by `python -m course.classroom`.

Everything is set by `course.classroom.configure` (accounts, the students' copies of the course,
limits, culling, the pre-save hook), from the settings file that command writes; the file's
path comes in $COURSE_CLASSROOM_SETTINGS.
"""

import os

from course.classroom import SETTINGS_ENV, configure, load_settings

if SETTINGS_ENV not in os.environ:
    raise SystemExit(
        "classroom/jupyterhub_config.py: start the hub with `python -m course.classroom` "
        "(it writes the settings this file reads)"
    )
configure(get_config(), load_settings(os.environ[SETTINGS_ENV]))  # noqa: F821 (JupyterHub's)
