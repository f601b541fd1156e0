#!/usr/bin/env python3
"""One entry point for a fresh machine with nothing but Python 3.11+.

    python3 dev.py demo [args…]   set up .venv, create the sample data, chat in the terminal
    python3 dev.py test [args…]   set up .venv with the test tools, run the whole suite
    python3 dev.py bench          set up .venv, run the benchmarks

It (re)installs into .venv only when pyproject.toml has changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("branchbot needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    print(f"installing branchbot{extras} into .venv …", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", "-e", f".{extras}"],
                   check=True, cwd=ROOT)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


# The suite mostly waits (subprocesses, loopback HTTP, PostgreSQL), so on two cores three workers
# beat two; worksteal evens out the slow tests (the Unicode walk, the process tests).
PARALLEL = ["-n", "3", "--dist", "worksteal"]
OWN_CHOICE = ("--numprocesses", "--pdb", "--trace", "--co", "--collect-only", "no:xdist", "-pno:xdist")


def pytest_args(rest: list[str]) -> list[str]:
    """``rest`` on PARALLEL's workers, unless it picks its own (``-n 0``, ``-p no:xdist``) or
    asks for something workers cannot do (a debugger, only collecting)."""
    own = any(arg.split("=")[0] in OWN_CHOICE or arg.startswith("-n") for arg in rest)
    return rest if own else [*PARALLEL, *rest]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "bench"):
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    ensure_venv("[test]")
    if task == "demo":
        command = [str(BIN / "branchbot"), "demo", *rest]
    elif task == "test":
        command = [str(BIN / "python"), "-m", "pytest", *pytest_args(rest)]
    else:
        command = [str(BIN / "python"), "bench/dialogs.py", *rest]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
