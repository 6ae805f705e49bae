"""Run the real ``aiops`` command: in a subprocess with pipes, or on a pseudo-terminal."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Aiops = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the CLI's default store and chat history out of the developer's home."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("AIOPS_STORE", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "error", **(extra or {})}


@pytest.fixture
def aiops(tmp_path: Path) -> Aiops:
    """``aiops(*args, check=True, input=None, env=None)``: the command with pipes, in tmp_path."""

    def run(
        *args: str,
        check: bool = True,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [sys.executable, "-m", "aiops_core.cli", *args],
            capture_output=True,
            text=True,
            env=_env(env),
            timeout=90,
            input=input,
            cwd=tmp_path,
        )
        if check:
            assert out.returncode == 0, out.stderr
        return out

    return run


class Terminal:
    """``aiops`` on a pseudo-terminal: stdin, stdout and stderr are all the terminal."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiops_core.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            close_fds=True,
        )
        os.close(slave)
        self.output = ""
        self._seen = 0

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.output += data.decode(errors="replace")
        return True

    def expect(self, text: str, timeout: float = 30) -> str:
        """Wait until ``text`` appears after what earlier calls matched; returns the new output."""
        deadline = time.monotonic() + timeout
        while text not in self.output[self._seen :]:
            if time.monotonic() > deadline or not self._read(0.1):
                if text in self.output[self._seen :]:
                    break
                raise AssertionError(f"{text!r} never appeared; output so far:\n{self.output}")
        end = self.output.index(text, self._seen) + len(text)
        new, self._seen = self.output[self._seen : end], end
        return new

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def interrupt(self) -> None:
        """What Ctrl-C does: SIGINT to the program."""
        self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.1):
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        code = self.proc.wait(timeout=max(deadline - time.monotonic(), 1))
        os.close(self.master)
        return code


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """``terminal(*args, env=None)`` starts ``aiops`` on a pseudo-terminal (killed at the end)."""
    started: list[Terminal] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Terminal:
        term = Terminal(args, _env({"TERM": "xterm", **(env or {})}), tmp_path)
        started.append(term)
        return term

    yield start
    for term in started:
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait()
