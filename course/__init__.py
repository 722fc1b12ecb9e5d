"""The commands that build, check and publish the course; nothing a notebook imports.

The lessons import ``helpers`` (one module per concept); maintainers and teachers run these:

| command                                | what it does                                          |
|----------------------------------------|-------------------------------------------------------|
| ``python -m course.build model/draft`` | rebuilds ``models/`` (``BuildConfig``, named presets) |
| ``python -m course.site``              | the offline course site (``site/``; ``--student``)    |
| ``python -m course.handouts``          | student copies (solutions out), the projector copy    |
| ``python -m course.plans``             | single-class plans into TEACHING.md and run sheets    |
| ``python -m course.setup_check``       | is this computer ready? READY or what to fix          |
| ``python -m course.wheelhouse``        | a folder of wheels that installs the course offline   |
| ``python -m course.classroom``         | a JupyterHub for one class on one machine             |
| ``python -m course.colab``             | the Open-in-Colab link and first cell of each notebook|
| ``python -m course.translate``         | the Chinese notebooks and guide (notebooks/zh/)       |

``distillation`` (the soft-label loss of the bundled model's second stage) sits beside ``build``,
its one user. ``clean_save`` is the Jupyter server's pre-save hook that the README's JupyterLab
command loads (``--config=jupyter_server_config.py``): a notebook that was only read is saved
as it was. This package may import ``helpers``; ``helpers`` never imports it.
``setup_check`` must run where torch is missing, so it and this file import nothing heavy.
"""
