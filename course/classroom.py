"""A JupyterHub for one class on one machine: every student logs in from a browser on the LAN.

    pip install -r requirements.txt -r classroom/requirements.txt
    npm install -g configurable-http-proxy@5.3.0
    python -m course.classroom --students 24            # student01 ... student24, teacher
    python -m course.classroom --roster names.txt --teacher ms-lee --port 8000

JupyterHub (existing software, not the course's) runs with classroom/jupyterhub_config.py,
which calls `configure` below:
- accounts: the students by name, one shared class password (JupyterHub's own
  SharedPasswordAuthenticator); the teacher is the hub's admin, with a password of its own;
- each student's server starts with a copy of the course's notebooks in their own folder
  (`copy_course`, at spawn; a copy already there is kept, with the student's edits);
- limits per student from benchmarks/bench_memory.py's figures (`MEM_LIMIT`, `CPU_LIMIT`):
  enforced by the `systemd` spawner (a Linux server, run as root); the default `simple` spawner
  (a teacher's laptop, no root) runs every server as the teacher's own user and does not
  enforce them;
- idle kernels shut down after 20 minutes (each server), idle servers after an hour
  (jupyterhub-idle-culler, a service of the hub);
- the course's pre-save hook in every server (course/clean_save.py): a notebook only read stays
  byte for byte as it was, as with the README's `--config=jupyter_server_config.py`.

The passwords are made once and kept in DATA/settings.json (readable by its owner only); set
COURSE_CLASS_PASSWORD to choose the students' password. Everything the hub writes stays in the
data folder (default: classroom-data/). For teachers; not used by the lessons.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

from course._cli import check_out_folder

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "classroom" / "jupyterhub_config.py"
SETTINGS_ENV = "COURSE_CLASSROOM_SETTINGS"
#: JupyterLab's settings overrides for the students (no question about fetching news)
LAB_SETTINGS = ROOT / "classroom" / "lab-settings"
#: benchmarks/bench_memory.py: the largest kernel (notebook 05) peaks at 1,388 MB; a student's
#: JupyterLab server adds ~150 MB with notebooks open (notebooks/TEACHING.md, "A classroom server")
KERNEL_PEAK_MB = 1388
SERVER_MB = 150
MEM_LIMIT = "1.6G"  # >= KERNEL_PEAK_MB + SERVER_MB, one kernel per student
MEM_GUARANTEE = "0.9G"  # sessions without notebook 05 (TEACHING.md: 0.85 GB each)
CPU_LIMIT = 1.0  # one core at most: a Run All by one student cannot starve the room
CPU_GUARANTEE = 0.25  # one core per 4 students keeps a whole-class Run All under a minute
KERNEL_IDLE_SECONDS = 1200
SERVER_IDLE_SECONDS = 3600
STUDENT_PASSWORD_MIN = 8  # SharedPasswordAuthenticator's own minimums
ADMIN_PASSWORD_MIN = 32
USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
SPAWNERS = {
    "simple": "jupyterhub.spawner.SimpleLocalProcessSpawner",
    "systemd": "systemdspawner.SystemdSpawner",
}


def student_names(count: int | None = None, roster: str | None = None) -> list[str]:
    """student01 ... studentNN, or the names of a roster text (one a line, # comments)."""
    if roster is not None:
        names = [line.split("#")[0].strip().lower() for line in roster.splitlines()]
        names = [n for n in names if n]
        bad = [n for n in names if not USERNAME.fullmatch(n)]
        if bad:
            raise ValueError(
                f"roster names must be lowercase letters, digits, - or _, starting with a "
                f"letter, at most 32 characters: not {', '.join(map(repr, bad[:5]))}"
            )
        if len(set(names)) != len(names):
            raise ValueError("the roster names a student twice")
        if not names:
            raise ValueError("the roster names no student")
        return names
    if count is None or not 1 <= count <= 500:
        raise ValueError(f"--students {count}: give a number of students from 1 to 500")
    return [f"student{i:02d}" for i in range(1, count + 1)]


def single_user_args(
    kernel_idle_seconds: int = KERNEL_IDLE_SECONDS,
) -> list[str]:
    """What every student's Jupyter server is started with: the pre-save hook, kernel culling."""
    return [
        "--ContentsManager.pre_save_hook=course.clean_save.pre_save_hook",
        f"--MappingKernelManager.cull_idle_timeout={kernel_idle_seconds}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=False",
        # no news feed and no update check: a classroom may be offline, and 30 students
        # should not each be asked whether JupyterLab may fetch Jupyter's news
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.app_settings_dir={LAB_SETTINGS}",
    ]


def copy_course(home: Path, source: Path = ROOT / "notebooks") -> Path:
    """The student's own copy of the lessons (English and Chinese), made once: a copy already in
    `home` is kept with the student's edits. Not the teacher's guide (it has the answers)."""
    target = Path(home) / "course"
    if target.exists():
        return target
    partial = Path(home) / ".course-copying"
    shutil.rmtree(partial, ignore_errors=True)
    for nb in [*source.glob("[0-9][0-9]_*.ipynb"), *source.glob("zh/[0-9][0-9]_*.ipynb")]:
        (partial / nb.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb, partial / nb.relative_to(source))
    partial.rename(target)  # all or nothing: a crash mid-copy leaves no half course
    return target


def pre_spawn_hook(spawner) -> None:
    """JupyterHub's `Spawner.pre_spawn_hook`: the course copied into the student's home."""
    home = Path(getattr(spawner, "home_dir", None) or Path.home() / spawner.user.name)
    home.mkdir(parents=True, exist_ok=True)
    copy_course(home)


def make_settings(
    students: list[str],
    teacher: str,
    data: Path,
    student_password: str | None = None,
    spawner: str = "simple",
    ip: str = "",
    port: int = 8000,
    api_token: str | None = None,
) -> dict:
    if not USERNAME.fullmatch(teacher):
        raise ValueError(f"--teacher {teacher!r}: lowercase letters, digits, - or _")
    if teacher in students:
        raise ValueError(f"the teacher {teacher!r} is also named as a student")
    if spawner not in SPAWNERS:
        raise ValueError(f"--spawner {spawner!r}: one of {', '.join(SPAWNERS)}")
    password = student_password or secrets.token_urlsafe(6)  # 8 characters, easy to type
    if len(password) < STUDENT_PASSWORD_MIN:
        raise ValueError(
            f"the class password needs at least {STUDENT_PASSWORD_MIN} characters "
            f"(JupyterHub's rule), not {len(password)}"
        )
    return {
        "students": students,
        "teacher": teacher,
        "student_password": password,
        "teacher_password": secrets.token_urlsafe(ADMIN_PASSWORD_MIN),  # 43 characters
        "data": str(Path(data).resolve()),
        "spawner": spawner,
        "ip": ip,
        "port": port,
        "api_token": api_token,
    }


def configure(c, settings: dict) -> None:
    """Fill a JupyterHub config `c` (classroom/jupyterhub_config.py passes its own)."""
    data = Path(settings["data"])
    c.JupyterHub.ip = settings["ip"]
    c.JupyterHub.port = settings["port"]
    # the hub's and the proxy's own ports next to it, so that two hubs on one machine can run
    c.JupyterHub.hub_port = settings["port"] + 1
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['port'] + 2}"
    c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.pid_file = str(data / "jupyterhub-proxy.pid")
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = settings["student_password"]
    c.SharedPasswordAuthenticator.admin_password = settings["teacher_password"]
    c.Authenticator.allowed_users = set(settings["students"])
    c.Authenticator.admin_users = {settings["teacher"]}
    c.JupyterHub.spawner_class = SPAWNERS[settings["spawner"]]
    c.Spawner.pre_spawn_hook = pre_spawn_hook
    c.Spawner.default_url = "/lab/tree/course/00_setup_and_tour.ipynb"
    c.Spawner.notebook_dir = "~"
    c.Spawner.args = single_user_args()
    c.Spawner.mem_limit = MEM_LIMIT
    c.Spawner.mem_guarantee = MEM_GUARANTEE
    c.Spawner.cpu_limit = CPU_LIMIT
    c.Spawner.cpu_guarantee = CPU_GUARANTEE
    c.Spawner.start_timeout = 120  # a busy machine at the start of class
    c.Spawner.http_timeout = 120
    # one thread per kernel, as setup_notebook sets it: N students share the cores fairly
    c.Spawner.environment = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if settings["spawner"] == "simple":
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # a container or CI: servers as root
            c.Spawner.args = [*single_user_args(), "--allow-root"]
        c.SimpleLocalProcessSpawner.home_dir_template = str(data / "homes" / "{username}")
    else:  # a system user per student, made by systemd; limits enforced with cgroups
        c.SystemdSpawner.dynamic_users = True
        c.SystemdSpawner.mem_limit = MEM_LIMIT
        c.SystemdSpawner.cpu_limit = CPU_LIMIT
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={SERVER_IDLE_SECONDS}",
                "--cull-every=300",
            ],
        }
    ]
    roles = [
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]
    if settings.get("api_token"):  # scripts of the teacher's: the load test
        c.JupyterHub.services.append({"name": "course-script", "api_token": settings["api_token"]})
        roles.append(
            {
                "name": "course-script",
                "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"],
                "services": ["course-script"],
            }
        )
    c.JupyterHub.load_roles = roles


def load_settings(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def write_settings(path: Path, settings: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(settings, f, indent=1)


def hub_command(settings_path: Path) -> tuple[list[str], dict]:
    """The command that starts the hub, and its environment."""
    env = {**os.environ, SETTINGS_ENV: str(settings_path)}
    # the hub starts the servers, the culler and the proxy from this environment's bin/
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG_FILE)], env


def missing_software(which=shutil.which) -> list[str]:
    problems = []
    try:
        import jupyterhub  # noqa: F401
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError:
        problems.append(
            "JupyterHub is not installed here: pip install -r classroom/requirements.txt "
            "(in the course's environment)"
        )
    if which("configurable-http-proxy") is None:
        problems.append(
            "configurable-http-proxy is not on PATH: npm install -g configurable-http-proxy@5.3.0 "
            "(Node.js 18 or newer)"
        )
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.classroom",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--students", type=int, help="how many: student01 ... studentNN")
    who.add_argument("--roster", type=Path, help="a text file, one student name a line")
    parser.add_argument("--teacher", default="teacher", help="the admin's name (default: teacher)")
    parser.add_argument("--data", type=Path, default=Path("classroom-data"), help="hub's folder")
    parser.add_argument("--ip", default="", help="address to listen on (default: all)")
    parser.add_argument("--port", type=int, default=8000, help="default: 8000")
    parser.add_argument("--spawner", default="simple", help="simple (a laptop) or systemd (root)")
    parser.add_argument(
        "--print-settings",
        action="store_true",
        help="write the settings, print them, start nothing",
    )
    args = parser.parse_args(argv)
    if args.roster is not None and not args.roster.is_file():
        parser.error(f"--roster {args.roster}: no such file")
    if not 1 <= args.port <= 65533:
        parser.error(f"--port {args.port}: a port number from 1 to 65533 (the next two are used)")
    check_out_folder(parser, args.data, "hub's database and the students' folders")
    settings_path = args.data / "settings.json"
    try:
        roster = args.roster.read_text(encoding="utf-8") if args.roster else None
        students = student_names(args.students, roster)
        settings = make_settings(
            students,
            args.teacher,
            args.data,
            os.environ.get("COURSE_CLASS_PASSWORD"),
            args.spawner,
            args.ip,
            args.port,
            os.environ.get("COURSE_CLASSROOM_API_TOKEN"),
        )
    except ValueError as err:
        parser.error(str(err))
    if settings_path.is_file():  # keep the passwords of an earlier start
        old = load_settings(settings_path)
        settings["teacher_password"] = old["teacher_password"]
        if not os.environ.get("COURSE_CLASS_PASSWORD"):
            settings["student_password"] = old["student_password"]
    write_settings(settings_path, settings)
    print(
        f"{len(students)} students ({students[0]} ... {students[-1]}), class password: "
        f"{settings['student_password']}\nteacher (admin) {settings['teacher']}, password: "
        f"{settings['teacher_password']}\n(kept in {settings_path}, readable by you only)",
        flush=True,
    )
    if args.print_settings:
        return 0
    if args.spawner == "systemd" and (not hasattr(os, "geteuid") or os.geteuid() != 0):
        parser.error("--spawner systemd makes a system user per student: run it as root")
    problems = missing_software()
    if problems:
        parser.exit(2, "".join(f"{parser.prog}: {p}\n" for p in problems))
    command, env = hub_command(settings_path)
    print(f"students open http://THIS-MACHINE:{args.port}/ and log in", flush=True)
    os.chdir(settings["data"])  # the proxy's pid file and logs stay in the data folder
    os.execve(command[0], command, env)  # the hub takes this process over: Ctrl-C stops it


if __name__ == "__main__":
    sys.exit(main())
