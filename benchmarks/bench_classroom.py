"""A class logs in at once: the classroom server (`python -m course.classroom`) under load.

    python benchmarks/bench_classroom.py --students 1 4 8 [--steps 20] [--port 18100]

Run it with the Python of an environment that has the course and classroom/requirements.txt,
with configurable-http-proxy on PATH (notebooks/TEACHING.md, "A classroom server"). It starts
the hub on 127.0.0.1 only (a data folder in a temporary directory, removed afterwards), then, for
each N: N simulated students log in through the hub's login form with the class password, get a
token through the hub's REST API, start their servers and a kernel each, all at once. Every
fourth student (the first included) steps through decoding as notebook 02's stepper does
(`DecodingStepper(...).step()`, the call a click on "step" makes, one request per click, about
two clicks a second) for as long as the others run every code cell of notebooks 03, 04 and 05.
Nothing leaves the machine; every wait is bounded.

Prints per N: the time of one step as the student's browser sees it (request to reply through
the proxy, p50 and p95), server start and kernel start (to its first reply), the peak memory
of each student's processes (server + kernel, summed RSS sampled every 0.5 s), failures (a
login, a start or a request that failed; or the round stopped because the machine's available
memory fell under 3 GB, since the load test must not starve other work) and cells that raised
(the timing asserts of 05 may fail on a loaded machine). Then a markdown table row per N, for
TEACHING.md.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-class-pw"
#: below this much available memory the round stops (its students fail with "memory floor"):
#: the load test must never push the machine's other work out of memory
MEMORY_FLOOR_MB = 3072
TOKEN = uuid.uuid4().hex
LOAD_NOTEBOOKS = ["03_training_shifted_labels", "04_attention_masks", "05_kv_cache_and_cost"]
STEPPER_SETUP = """\
import time
from helpers import setup_notebook
from helpers.models import load_model
from helpers.widgets import DecodingStepper
setup_notebook()
model, tokenizer = load_model()
stepper = DecodingStepper(model, tokenizer, "To be, or not to be")
"""
NO_REDIRECT = type(
    "NoRedirect",
    (urllib.request.HTTPRedirectHandler,),
    {"redirect_request": lambda *a, **k: None},
)


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


class Hub:
    def __init__(self, port: int, students: int, data: Path):
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "COURSE_CLASS_PASSWORD": PASSWORD,
            "COURSE_CLASSROOM_API_TOKEN": TOKEN,
        }
        cmd = [sys.executable, "-m", "course.classroom", "--students", str(students)]
        cmd += ["--data", str(data), "--ip", "127.0.0.1", "--port", str(port)]
        self.log = open(data.parent / "hub.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.api("GET", "/hub/api/")
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(1)
        self.stop()
        raise SystemExit(f"the hub did not start: see {data.parent / 'hub.log'}")

    def api(self, method, path, token=TOKEN, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"token {token}")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def login(self, name: str) -> bool:
        """The login form, as a browser sends it: the class password must let the student in."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NO_REDIRECT)
        page = opener.open(self.base + "/hub/login", timeout=60).read().decode()
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": name, "password": PASSWORD, "_xsrf": xsrf})
        try:
            opener.open(self.base + "/hub/login?next=/hub/home", form.encode(), timeout=60)
        except urllib.error.HTTPError as err:  # 302: logged in, sent on
            return err.code == 302 and any(c.name.startswith("jupyterhub-") for c in jar)
        return False

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


class MemorySampler(threading.Thread):
    """Every 0.5 s, the summed RSS of each student's processes (found by JUPYTERHUB_USER)."""

    def __init__(self, names, floor_mb=MEMORY_FLOOR_MB):
        super().__init__(daemon=True)
        self.names, self.peak, self.running = set(names), dict.fromkeys(names, 0.0), True
        self.floor_mb, self.low_memory = floor_mb, False

    def run(self):
        while self.running:
            meminfo = Path("/proc/meminfo").read_text()
            available = int(re.search(r"MemAvailable:\s+(\d+)", meminfo).group(1)) / 1024
            if available < self.floor_mb:  # the students stop: the machine is shared
                self.low_memory = True
            now = dict.fromkeys(self.names, 0.0)
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                    user = next(
                        (e[16:].decode() for e in environ if e.startswith(b"JUPYTERHUB_USER=")),
                        None,
                    )
                    if user in now:
                        status = Path(f"/proc/{pid}/status").read_text()
                        now[user] += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
                except (OSError, AttributeError):
                    continue
            for name, mb in now.items():
                self.peak[name] = max(self.peak[name], mb)
            time.sleep(0.5)


class Kernel:
    """A kernel of a student's server, driven over its websocket as JupyterLab drives it."""

    def __init__(self, ws, session):
        self.ws, self.session = ws, session

    @classmethod
    async def start(cls, hub: Hub, name: str, token: str):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        user = f"/user/{name}/api/kernels"
        kernel = await asyncio.to_thread(
            hub.api, "POST", user, token, {"name": "python3", "path": "course"}
        )
        url = hub.base.replace("http", "ws") + f"{user}/{kernel['id']}/channels"
        req = HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=120)
        return cls(await websocket_connect(req), uuid.uuid4().hex)

    async def run(self, code: str, timeout: float = 300) -> str | None:
        """Runs `code`; the error's name, or None."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "session": self.session, "username": "bench"}
        header |= {"msg_type": "execute_request", "version": "5.3", "date": ""}
        content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
        msg = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
        await self.ws.write_message(json.dumps({**msg, "channel": "shell"}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "Timeout"
            raw = await asyncio.wait_for(self.ws.read_message(), left)
            if raw is None:
                return "ConnectionClosed"
            reply = json.loads(raw)
            if reply["parent_header"].get("msg_id") != msg_id:
                continue
            if reply["msg_type"] == "execute_reply":
                c = reply["content"]
                return None if c["status"] == "ok" else c.get("ename", c["status"])


async def student(
    hub: Hub, name: str, task: str, steps: int, others_done, result: dict, sampler=None
):
    t0 = time.perf_counter()
    if not await asyncio.to_thread(hub.login, name):
        result["failures"].append("login")
        return
    token = (await asyncio.to_thread(hub.api, "POST", f"/hub/api/users/{name}/tokens", TOKEN, {}))[
        "token"
    ]
    await asyncio.to_thread(hub.api, "POST", f"/hub/api/users/{name}/server", token)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        user = await asyncio.to_thread(hub.api, "GET", f"/hub/api/users/{name}", token)
        if user.get("server") and not user.get("pending"):
            break
        await asyncio.sleep(0.5)
    else:
        result["failures"].append("server start")
        return
    result["server_start"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    kernel = await Kernel.start(hub, name, token)
    if await kernel.run("1 + 1", timeout=300) is not None:
        result["failures"].append("kernel start")
        return
    result["kernel_start"] = time.perf_counter() - t1
    if task == "stepper":
        error = await kernel.run(STEPPER_SETUP)
        if error:
            result["errors"].append(f"stepper setup: {error}")
            return
        done = 0
        while done < steps or (not others_done.is_set() and done < 50 * steps):
            if sampler is not None and sampler.low_memory:
                result["failures"].append("memory floor")
                break
            t = time.perf_counter()
            error = await kernel.run("stepper.step()", timeout=120)
            result["steps"].append(time.perf_counter() - t)
            if error:
                result["errors"].append(f"step: {error}")
            done += 1
            await asyncio.sleep(0.5)  # a student reads the new token, then clicks again
    else:
        nb = nbformat.read(ROOT / "notebooks" / f"{task}.ipynb", as_version=4)
        for cell in nb.cells:
            if sampler is not None and sampler.low_memory:
                result["failures"].append("memory floor")
                break
            if cell.cell_type == "code":
                error = await kernel.run(cell.source)
                if error:
                    result["errors"].append(f"{task}#{cell.get('id', '?')}: {error}")
    result["done"] = time.perf_counter() - t0
    kernel.ws.close()


async def one_round(hub: Hub, n: int, steps: int) -> dict:
    names = [f"student{i:02d}" for i in range(1, n + 1)]
    tasks = ["stepper" if i % 4 == 0 else LOAD_NOTEBOOKS[(i - 1 - i // 4) % 3] for i in range(n)]
    results = {name: {"failures": [], "errors": [], "steps": []} for name in names}
    sampler = MemorySampler(names)
    sampler.start()
    others_done = asyncio.Event()
    loaders = [
        asyncio.create_task(student(hub, name, task, steps, others_done, results[name], sampler))
        for name, task in zip(names, tasks, strict=True)
        if task != "stepper"
    ]
    steppers = [
        asyncio.create_task(student(hub, name, task, steps, others_done, results[name], sampler))
        for name, task in zip(names, tasks, strict=True)
        if task == "stepper"
    ]
    t0 = time.perf_counter()
    for outcome in await asyncio.gather(*loaders, return_exceptions=True):
        if isinstance(outcome, BaseException):
            print(f"  a student failed: {outcome!r}", flush=True)
    others_done.set()
    for name, outcome in zip(
        [n for n, t in zip(names, tasks, strict=True) if t == "stepper"],
        await asyncio.gather(*steppers, return_exceptions=True),
        strict=True,
    ):
        if isinstance(outcome, BaseException):
            results[name]["failures"].append(repr(outcome)[:200])
    wall = time.perf_counter() - t0
    sampler.running = False
    sampler.join()
    for name in names:  # stop every server: the next round starts from nothing
        try:
            await asyncio.to_thread(hub.api, "DELETE", f"/hub/api/users/{name}/server")
        except urllib.error.HTTPError:
            pass
    for _ in range(120):
        users = await asyncio.to_thread(hub.api, "GET", "/hub/api/users")
        if not any(u.get("server") or u.get("pending") for u in users):
            break
        await asyncio.sleep(1)
    steps_all = [s for r in results.values() for s in r["steps"]]
    starts = [r["kernel_start"] for r in results.values() if "kernel_start" in r]
    spawns = [r["server_start"] for r in results.values() if "server_start" in r]
    failures = [f for r in results.values() for f in r["failures"]]
    return {
        "students": n,
        "steps": len(steps_all),
        "step_p50_ms": 1000 * percentile(steps_all, 50),
        "step_p95_ms": 1000 * percentile(steps_all, 95),
        "server_start_p50_s": statistics.median(spawns) if spawns else float("nan"),
        "server_start_max_s": max(spawns, default=float("nan")),
        "kernel_start_p50_s": statistics.median(starts) if starts else float("nan"),
        "kernel_start_max_s": max(starts, default=float("nan")),
        "peak_mb_median": statistics.median(sampler.peak.values()),
        "peak_mb_max": max(sampler.peak.values()),
        "failures": len(failures),
        "failure_kinds": sorted(set(failures)),
        "cell_errors": sorted({e for r in results.values() for e in r["errors"]}),
        "wall_s": wall,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--steps", type=int, default=20, help="steps at least, per stepper")
    parser.add_argument("--port", type=int, default=18100)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if any(not 1 <= n <= 64 for n in args.students):
        parser.error("--students: each from 1 to 64 (every student is a kernel of ~0.6 GB)")
    if not 1 <= args.steps <= 500:
        parser.error("--steps: from 1 to 500")
    if not 1024 <= args.port <= 65533:
        parser.error("--port: from 1024 to 65533 (the next two ports are used too)")
    if shutil.which("configurable-http-proxy") is None:
        parser.error("configurable-http-proxy is not on PATH (npm install configurable-http-proxy)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as tmp:
        hub = Hub(args.port, max(args.students), Path(tmp) / "data")
        try:
            for n in args.students:
                row = asyncio.run(one_round(hub, n, args.steps))
                rows.append(row)
                for key, value in row.items():
                    shown = f"{value:.2f}" if isinstance(value, float) else value
                    print(f"classroom[{n}].{key}: {shown}", flush=True)
        finally:
            hub.stop()
            if any(r["failures"] for r in rows):  # the hub's own words, before they are removed
                log = (Path(tmp) / "hub.log").read_text(errors="replace").splitlines()
                print("the hub's last log lines:", *log[-40:], sep="\n")
    print(
        "\n| students | step p50 / p95 (ms) | server start p50 / max (s) | kernel start p50 / max"
        " (s) | peak memory per student, median / max (MB) | failures | cells that raised |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['students']} | {r['step_p50_ms']:.0f} / {r['step_p95_ms']:.0f} "
            f"| {r['server_start_p50_s']:.1f} / {r['server_start_max_s']:.1f} "
            f"| {r['kernel_start_p50_s']:.1f} / {r['kernel_start_max_s']:.1f} "
            f"| {r['peak_mb_median']:.0f} / {r['peak_mb_max']:.0f} | {r['failures']} "
            f"| {len(r['cell_errors'])} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if all(r["failures"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
