"""Each student's Jupyter server in the image (classroom/Dockerfile puts it in /etc/jupyter/).

The same settings `python -m course.classroom` gives its servers on the command line
(`course.classroom.single_user_args`): the course's pre-save hook, so a notebook only read stays
byte for byte as it was, and idle kernels shut down.
"""

from course.classroom import KERNEL_IDLE_SECONDS

c = get_config()  # noqa: F821 (Jupyter defines it while it reads this file)
c.ContentsManager.pre_save_hook = "course.clean_save.pre_save_hook"
c.MappingKernelManager.cull_idle_timeout = KERNEL_IDLE_SECONDS
c.MappingKernelManager.cull_interval = 60
c.MappingKernelManager.cull_connected = False
c.LabApp.news_url = None  # offline: no news feed, no update check, no question about either
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
