"""`branchbot run` webhook workers as real processes: one port each, one database, one webhook
URL (the proxy's), configured only by environment variables as deploy/ configures them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
from collections import Counter
from pathlib import Path

from bench.scaleout_rig.project import ROOT, branchbot
from tests.botapi import FakeBotApi

WEBHOOK_PATH = "tg/hook"
SECRET = "scaleout-bench-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(database_url: str) -> dict[str, str]:
    """The environment of every branchbot command of the run (no BRANCHBOT_ key leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update(BRANCHBOT_DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    return env


class Worker:
    def __init__(self, number: int, env: dict[str, str], log: Path) -> None:
        self.number, self.port, self.log = number, free_port(), log
        self.env = {**env, "BRANCHBOT_TELEGRAM_WEBHOOK_PORT": str(self.port)}
        self.process: subprocess.Popen[bytes] | None = None
        self.failed_starts = 0

    async def start(self, attempts: int = 3) -> None:
        """Start and wait until it listens; a start that fails (its database connection killed
        while it checked the schema) is tried again, as systemd's Restart=on-failure would."""
        for _ in range(attempts):
            with self.log.open("ab") as log:
                self.process = subprocess.Popen([branchbot(), "run"], cwd=ROOT, env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT)
            if await self._listening():
                return
            self.failed_starts += 1
        raise RuntimeError(f"worker {self.number} did not start; see {self.log}")

    async def _listening(self, timeout: float = 60.0) -> bool:
        """True once the port answers; False if the process ended first."""
        assert self.process is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
            else:
                writer.close()
                return True
        self.process.kill()
        return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever it had taken and not handled is gone with it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    async def stop(self) -> None:
        """SIGTERM, as systemd stops it (deploy/), waited for without blocking the loop."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        for _ in range(300):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.1)
        self.process.kill()


class Fleet:
    """N webhook workers; every one registers the same public URL and secret."""

    def __init__(self, count: int, database_url: str, api: FakeBotApi, public_url: str,
                 logs: Path) -> None:
        env = {**base_env(database_url),
               "BRANCHBOT_TELEGRAM_TOKEN": api.token,
               "BRANCHBOT_TELEGRAM_BASE_URL": api.base_url,
               "BRANCHBOT_TELEGRAM_BASE_FILE_URL": api.base_file_url,
               "BRANCHBOT_TELEGRAM_WEBHOOK_URL": public_url,
               "BRANCHBOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
               "BRANCHBOT_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
               "BRANCHBOT_PUSHES_ENABLED": "false"}
        self.workers = [Worker(n, env, logs / f"worker{n}.log") for n in range(count)]

    @property
    def ports(self) -> list[int]:
        return [w.port for w in self.workers]

    async def start(self) -> None:
        await asyncio.gather(*(w.start() for w in self.workers))

    async def kill_and_restart(self, number: int) -> None:
        worker = self.workers[number]
        worker.kill()
        await worker.start()

    async def stop(self) -> None:
        await asyncio.gather(*(w.stop() for w in self.workers))

    def log_errors(self) -> Counter[str]:
        """The exception that ended each traceback in the workers' logs, by class name."""
        names: Counter[str] = Counter()
        for worker in self.workers:
            text = worker.log.read_text(encoding="utf-8", errors="replace")
            for record in _LOG_RECORD.split(text):
                if "Traceback (most recent call last)" in record:
                    raised = _RAISED.findall(record)
                    names[raised[-1] if raised else "unknown"] += 1
        return names


_LOG_RECORD = re.compile(r"^(?=\d{4}-\d{2}-\d{2} )", re.MULTILINE)
_RAISED = re.compile(r"^(?:[\w.]+\.)?(\w+)(?::|$)", re.MULTILINE)
