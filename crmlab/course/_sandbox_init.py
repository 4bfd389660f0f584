"""First process of a grading sandbox (PID 1 of fresh mount, PID, network, IPC and UTS namespaces).

Started by :mod:`crmlab.course.sandbox` as ``unshare ... -- python -I -S _sandbox_init.py`` with
its configuration (JSON) on standard input, before any student code exists in the sandbox. It
assembles a private root file system on a tmpfs: read-only binds of the system libraries, the
Python installation, the virtual environment, the ``crmlab`` package and the student's world, a
small writable home and ``/tmp``, a fresh ``/proc``, a minimal ``/dev``, and nothing else (no
repository, no submissions, no builds, no grades). It then enters that root, drops every
privilege (an unprivileged uid when started as root; an empty capability set and
``no_new_privs`` always), sets the resource limits and replaces itself with the runner.

Standard library only, and no ``site`` (``-I -S``): nothing of the environment the student's
code could have touched is imported here.
"""

import ctypes
import json
import os
import resource
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
ST_FLAGS = ((os.ST_RDONLY, MS_RDONLY), (os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV),
            (os.ST_NOEXEC, MS_NOEXEC))
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
PR_SET_PDEATHSIG = 1
LIMITS = {"as": resource.RLIMIT_AS, "nproc": resource.RLIMIT_NPROC, "cpu": resource.RLIMIT_CPU,
          "fsize": resource.RLIMIT_FSIZE, "core": resource.RLIMIT_CORE, "nofile": resource.RLIMIT_NOFILE}

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def fail(message: str, code: int = 121) -> None:
    """Report a set-up failure to the grader (exit status 121 + one line on stderr)."""
    os.write(2, f"crmlab sandbox: {message}\n".encode())
    os._exit(code)


def _enc(value):
    return None if value is None else str(value).encode()


def mount(source, target, fstype=None, flags=0, data=None) -> None:
    if libc.mount(_enc(source), _enc(target), _enc(fstype), flags, _enc(data)) != 0:
        err = ctypes.get_errno()
        fail(f"mount {source} on {target} failed: {os.strerror(err)}")


def bind(source: str, target: str, read_only: bool) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        # a remount must keep the flags the kernel locked on the source mount (user namespaces)
        vfs = os.statvfs(source)
        keep = 0
        for st, ms in ST_FLAGS:
            if vfs.f_flag & st:
                keep |= ms
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | keep)


def drop_privileges(uid) -> None:
    last = int(open("/proc/sys/kernel/cap_last_cap").read()) if os.path.exists("/proc/sys/kernel/cap_last_cap") else 63
    for cap in range(last + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if uid is not None:  # started as real root: become an unprivileged user (clears the caps too)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        fail(f"cannot drop capabilities: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        fail("cannot set no_new_privs")


def main() -> None:
    config = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    root = config["root"]
    # our mounts must never propagate back to the host
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0755")
    # the writable home and /tmp before the binds, so that a venv or repository that lives under
    # /tmp (a clone in /tmp/x) is bound inside the private /tmp instead of hidden by it
    for path, size in config["tmpfs"]:
        os.makedirs(root + path, exist_ok=True)
        mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0777")
    for source, target, read_only in config["binds"]:
        if os.path.exists(source):
            bind(source, root + target, read_only)
    for link, target in config["symlinks"]:
        os.makedirs(os.path.dirname(root + link), exist_ok=True)
        if not os.path.lexists(root + link):
            os.symlink(target, root + link)
    os.makedirs(root + "/proc", exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/dev", exist_ok=True)
    mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for dev in ("null", "zero", "random", "urandom"):
        bind("/dev/" + dev, root + "/dev/" + dev, False)
    for path, text in config["files"].items():
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        with open(root + path, "w", encoding="utf-8") as f:
            f.write(text)
    uid = config.get("uid")
    for path in config["owned"] if uid is not None else ():
        for folder, dirs, names in os.walk(root + path):
            # never into a bind mount (the read-only venv under /tmp): only what the sandbox made
            dirs[:] = [d for d in dirs if not os.path.ismount(os.path.join(folder, d))]
            for name in [folder, *(os.path.join(folder, n) for n in dirs + names)]:
                os.chown(name, uid, uid)
    # the rest of the root is read-only: only the home folder and /tmp take writes
    mount(None, root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir(config["cwd"])
    drop_privileges(uid)
    for name, value in config["limits"].items():
        resource.setrlimit(LIMITS[name], (value, value))
    # the answers pipe becomes fd 3; every other inherited descriptor is closed
    answers = config.get("answers_fd")
    if answers is not None and answers != 3:
        os.dup2(answers, 3)
        os.close(answers)
    for fd in range(4 if answers is not None else 3, 1024):
        try:
            os.close(fd)
        except OSError:
            pass
    if answers is not None:
        os.set_inheritable(3, True)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        os.execve(config["argv"][0], config["argv"], config["env"])
    except OSError as err:
        fail(f"cannot start {config['argv'][0]}: {err.strerror}")


if __name__ == "__main__":
    main()
