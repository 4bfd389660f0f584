"""Run one submitted notebook in an isolated sandbox and bring back its answers as plain data.

The sandbox is built from Linux namespaces with util-linux ``unshare`` (no daemon, no Docker):

- **file system**: a private root on a tmpfs holding read-only binds of the system (``/usr``), the
  Python installation, the virtual environment, the ``crmlab`` package and the student's world
  (at ``/data/world`` and where the shipped world would be, so that unsetting ``CRMLAB_DATA``
  still finds the student's world); a writable home and ``/tmp`` (tmpfs, size-capped). The
  repository, the exercise masters, the builds, the other submissions and the grades do not
  exist in there; the venv cannot be written (no ``.pth`` planted for later runs);
- **processes**: a new PID namespace (the sandbox sees only itself; when its first process ends
  the kernel kills every process it started), its own process group and session;
- **network**: a new network namespace with no interface up;
- **privileges**: as root, the notebook runs as an unprivileged uid (one per parallel slot);
  as a normal user, inside a user namespace; in both cases with no capabilities and
  ``no_new_privs``;
- **limits**: address space (memory), processes (fork bombs), file size, CPU time, open files,
  no core dumps, and a wall-clock deadline per notebook after which the whole sandbox is killed.

What leaves the sandbox is one JSON document written by :mod:`crmlab.course.runner` on a pipe
(size-capped): the answer values encoded by :mod:`crmlab.course.plain` and which cells raised.
Nothing from the sandbox is ever unpickled or executed by the grader.

>>> from crmlab.course.sandbox import isolation_status
>>> isolation_status().mode in {"root", "userns", "unavailable"}
True
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import CrmlabError

__all__ = ["SandboxLimits", "SandboxResult", "IsolationStatus", "isolation_status", "run_notebook_cells",
           "SandboxUnavailableError"]

_INIT = Path(__file__).with_name("_sandbox_init.py")
_HOME = "/home/student"
_WORLD = "/data/world"
_RUN_CONFIG = f"{_HOME}/.crmlab/run.json"
# uids of the unprivileged sandbox users when grading as root (one per parallel slot, so that
# RLIMIT_NPROC counts one sandbox's processes only); far above any real account's uid
SANDBOX_UID_BASE = 1_954_000_000
_EXIT_SETUP = 121  # the init's "could not build the sandbox" status


class SandboxUnavailableError(CrmlabError):
    """No isolation mechanism works on this machine."""


@dataclass(frozen=True)
class SandboxLimits:
    """Caps on one sandbox. ``timeout``: wall-clock seconds for the whole notebook;
    ``memory_mb``: address space of each process; ``processes``: processes and threads at once;
    ``file_mb``: size of any file written; ``disk_mb``: the writable home (tmpfs)."""

    timeout: float = 120.0
    memory_mb: int = 2048
    processes: int = 64
    file_mb: int = 64
    disk_mb: int = 128
    output_mb: int = 64
    grace: float = 10.0   # seconds between the notebook's deadline and killing its sandbox


@dataclass
class SandboxResult:
    """What came back from one sandbox: ``status`` is ``ok`` (the runner finished and exported),
    ``timeout`` (killed at the deadline), ``killed`` (ended by a signal), ``exited`` (ended
    without exporting), ``too_large`` (the export passed the size cap) or ``setup`` (the sandbox
    could not be built: a grader problem, not the student's)."""

    status: str
    elapsed: float
    export: bytes = b""
    returncode: int | None = None
    detail: str = ""
    log: str = field(default="", repr=False)


@dataclass(frozen=True)
class IsolationStatus:
    mode: str            # "root", "userns" or "unavailable"
    reason: str = ""


def _python_roots() -> list[str]:
    """Folders the sandboxed Python needs, read-only: the installation, the venv, crmlab."""
    import crmlab

    roots = [Path(sys.base_prefix).resolve(), Path(sys.prefix).absolute()]
    exe = Path(sys.executable)
    roots.append(exe.resolve().parent.parent)
    package = Path(crmlab.__file__).resolve().parent
    roots.append(package)
    out: list[str] = []
    for root in roots:
        text = str(root)
        if text.startswith("/usr/") or text == "/usr":
            continue
        if not any(text == o or text.startswith(o + "/") for o in out):
            out = [o for o in out if not o.startswith(text + "/")] + [text]
    return out


def _base_config(world: Path, slot: int, mode: str, limits: SandboxLimits, stage: Path) -> dict:
    import crmlab

    binds = [["/usr", "/usr", True]]
    symlinks = []
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            symlinks.append([top, os.readlink(top)])
        elif os.path.isdir(top):
            binds.append([top, top, True])
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        if os.path.exists(etc):
            binds.append([os.path.realpath(etc), etc, True])
    binds += [[r, r, True] for r in _python_roots()]
    world = str(Path(world).resolve())
    shipped = str(Path(crmlab.__file__).resolve().parent.parent / "datasets")
    binds += [[world, _WORLD, True], [world, shipped, True]]
    uid = SANDBOX_UID_BASE + slot if mode == "root" else None
    shown_uid = uid if uid is not None else 0
    files = {
        "/etc/passwd": f"student:x:{shown_uid}:{shown_uid}:student:{_HOME}:/bin/sh\n",
        "/etc/group": f"student:x:{shown_uid}:\n",
        "/etc/hostname": "sandbox\n",
    }
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": _HOME, "USER": "student", "LANG": "C.UTF-8",
        "CRMLAB_DATA": _WORLD, "CRMLAB_GRADING": "1", "PYTHONHASHSEED": "0", "TQDM_DISABLE": "1",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PYTHONDONTWRITEBYTECODE": "1", "VIRTUAL_ENV": sys.prefix,
    }
    mb = 1024 * 1024
    return {
        "root": str(stage), "binds": binds, "symlinks": symlinks,
        "tmpfs": [[_HOME, f"{limits.disk_mb}m"], ["/tmp", f"{limits.disk_mb}m"]],
        "files": files, "owned": [_HOME, "/tmp"], "uid": uid, "cwd": _HOME, "env": env,
        "limits": {"as": int(limits.memory_mb) * mb, "nproc": int(limits.processes),
                   "fsize": int(limits.file_mb) * mb, "core": 0, "nofile": 256,
                   "cpu": int(limits.timeout) + 30},
    }


def _unshare_argv(mode: str) -> list[str]:
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    argv = [unshare, "--mount", "--pid", "--net", "--ipc", "--uts", "--fork", "--kill-child"]
    if mode == "userns":
        argv[1:1] = ["--user", "--map-root-user"]
    return argv + ["--", os.path.realpath(sys.executable), "-I", "-S", str(_INIT)]


def _launch(config: dict, mode: str, timeout: float, output_cap: int, stage_dir: Path) -> SandboxResult:
    """Start the sandbox with ``config`` and wait for it (at most ``timeout`` s)."""
    read_end, write_end = os.pipe()
    config = {**config, "answers_fd": write_end}
    config["files"] = {**config["files"]}
    log_path = stage_dir / "log.txt"
    start = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(_unshare_argv(mode), stdin=subprocess.PIPE, stdout=log, stderr=log,
                                    pass_fds=(write_end,), start_new_session=True, close_fds=True,
                                    env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        except OSError as err:
            os.close(read_end)
            os.close(write_end)
            return SandboxResult("setup", 0.0, detail=f"cannot start unshare: {err.strerror}")
        os.close(write_end)
        chunks: list[bytes] = []
        state = {"size": 0, "too_large": False}

        def reader():
            with os.fdopen(read_end, "rb", buffering=0) as pipe:
                while True:
                    try:
                        chunk = pipe.read(1 << 16)
                    except OSError:
                        break
                    if not chunk:
                        break
                    state["size"] += len(chunk)
                    if state["size"] > output_cap:
                        state["too_large"] = True
                        break
                    chunks.append(chunk)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        try:
            proc.stdin.write(json.dumps(config).encode("utf-8"))
            proc.stdin.close()
        except OSError:
            pass
        status = None
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = "timeout"
        _kill_group(proc)
        thread.join(timeout=5)
        elapsed = time.monotonic() - start
    log_text = log_path.read_bytes()[-4000:].decode("utf-8", errors="replace")
    code = proc.returncode
    if status is None:
        if state["too_large"]:
            status = "too_large"
        elif code == _EXIT_SETUP and "crmlab sandbox:" in log_text:
            status = "setup"
        elif code == 0 and chunks:
            status = "ok"
        elif code is not None and code < 0:
            status = "killed"
        else:
            status = "exited"
    detail = ""
    if status == "setup":
        detail = next((ln for ln in log_text.splitlines() if "crmlab sandbox:" in ln), log_text.strip()[-300:])
    elif status == "killed":
        try:
            detail = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            detail = f"killed by signal {-code}"
    export = b"" if status in ("too_large", "setup") else b"".join(chunks)
    return SandboxResult(status, elapsed, export, code, detail, log_text)


def _kill_group(proc: subprocess.Popen) -> None:
    """End the sandbox: its first process takes every process of the PID namespace with it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _stage(prefix: str = "crmlab-sandbox-") -> Path:
    """An empty host folder to mount the sandbox's root on (readable by the sandbox uid)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(folder, 0o755)
    (folder / "root").mkdir(mode=0o755)
    return folder


def run_notebook_cells(cells: list[str], answers: list[str], world, *, limits: SandboxLimits = SandboxLimits(),
                       slot: int = 0, mode: str | None = None) -> SandboxResult:
    """Execute ``cells`` (code cell sources, in order) in a fresh sandbox on ``world``; bring
    back the values of the variables ``answers`` as plain data (see :mod:`crmlab.course.plain`).

    ``mode`` is ``"root"``, ``"userns"`` or ``"unsafe"`` (no isolation: a plain subprocess with the
    same limits; only when the instructor asks for it); default: what :func:`isolation_status`
    finds. Never raises for anything the notebook does; the result says what happened.
    """
    mode = mode or isolation_status().mode
    if mode == "unavailable":
        raise SandboxUnavailableError(isolation_status().reason, fix=_FIX)
    run = {"cells": list(cells), "answers": list(answers), "deadline": float(limits.timeout)}
    stage = _stage()
    try:
        if mode == "unsafe":
            return _run_unsafe(run, world, limits, stage)
        config = _base_config(Path(world), slot, mode, limits, stage / "root")
        config["files"][_RUN_CONFIG] = json.dumps(run)
        config["argv"] = [sys.executable, "-I", "-B", "-m", "crmlab.course.runner", _RUN_CONFIG]
        # the runner exports at its own deadline; the sandbox is killed a little later
        return _launch(config, mode, limits.timeout + limits.grace, limits.output_mb * 1024 * 1024, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _run_unsafe(run: dict, world, limits: SandboxLimits, stage: Path) -> SandboxResult:
    """No namespaces: a subprocess in a temporary folder with rlimits. Offered only behind
    ``--unsafe``: the notebook can read and write whatever this user can."""
    import resource

    home = stage / "home"
    home.mkdir()
    (home / "run.json").write_text(json.dumps(run), encoding="utf-8")
    mb = 1024 * 1024

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (int(limits.timeout) + 30,) * 2)

    read_end, write_end = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COV"))}
    env.update({"CRMLAB_DATA": str(Path(world).resolve()), "CRMLAB_GRADING": "1", "HOME": str(home),
                "MPLBACKEND": "Agg", "TQDM_DISABLE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CRMLAB_ANSWERS_FD": str(write_end)})
    run_path = home / "run.json"
    data = json.loads(run_path.read_text())
    data["fd"] = write_end
    run_path.write_text(json.dumps(data))
    start = time.monotonic()
    with open(stage / "log.txt", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-I", "-B", "-m", "crmlab.course.runner", str(run_path)],
                                cwd=home, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                pass_fds=(write_end,), start_new_session=True, preexec_fn=limit)
        os.close(write_end)
        chunks: list[bytes] = []
        cap = limits.output_mb * mb

        def reader():
            size = 0
            with os.fdopen(read_end, "rb", buffering=0) as pipe:
                while chunk := pipe.read(1 << 16):
                    size += len(chunk)
                    if size > cap:
                        break
                    chunks.append(chunk)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        status = None
        try:
            proc.wait(timeout=limits.timeout + limits.grace)
        except subprocess.TimeoutExpired:
            status = "timeout"
        _kill_group(proc)
        thread.join(timeout=5)
    code = proc.returncode
    if status is None:
        status = "ok" if chunks else ("killed" if code is not None and code < 0 else "exited")
    return SandboxResult(status, time.monotonic() - start, b"".join(chunks), code)


_FIX = ("grade on Linux with util-linux `unshare` and user namespaces enabled (as root, or "
        "sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0 for a normal user); "
        "or, only for submissions you trust, pass --unsafe (no isolation)")


@lru_cache(maxsize=1)
def isolation_status() -> IsolationStatus:
    """Which isolation works here: ``root`` (namespaces + an unprivileged uid), ``userns`` (a
    user namespace, for a normal user) or ``unavailable`` (with the reason). Probed once by
    starting a real sandbox that runs ``true``."""
    if not sys.platform.startswith("linux"):
        return IsolationStatus("unavailable", f"sandboxed grading needs Linux namespaces; this is {sys.platform}")
    if shutil.which("unshare") is None and not os.path.exists("/usr/bin/unshare"):
        return IsolationStatus("unavailable", "the `unshare` command (util-linux) is not installed")
    mode = "root" if os.geteuid() == 0 else "userns"
    stage = _stage("crmlab-sandbox-probe-")
    try:
        import tempfile as _tf

        with _tf.TemporaryDirectory() as world:
            config = _base_config(Path(world), 0, mode, SandboxLimits(timeout=30), stage / "root")
            true = shutil.which("true") or "/usr/bin/true"
            config["argv"] = [true]
            result = _launch(config, mode, 30, 1024, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if result.returncode == 0:
        return IsolationStatus(mode)
    reason = result.detail or result.log.strip().splitlines()[-1:] or ["no message"]
    reason = reason if isinstance(reason, str) else reason[0]
    return IsolationStatus("unavailable", f"cannot create a sandbox ({mode} mode): {reason}")
