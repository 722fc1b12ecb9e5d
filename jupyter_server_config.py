"""Jupyter server settings of the course: ``jupyter lab --config=jupyter_server_config.py``.

The README's commands pass this file. Reading a notebook then leaves it byte for byte as it was:
the plotly extension's re-drawn figure PNGs are not written back (course/clean_save.py).
"""

c = get_config()  # noqa: F821 (Jupyter defines it while it reads this file)
c.ContentsManager.pre_save_hook = "course.clean_save.pre_save_hook"
