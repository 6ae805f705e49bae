"""``aiops chat``: an interactive conversation.

The engine (model connections, MCP sessions, the store) lives in an event loop in a background
thread for the whole session; the main thread reads lines, so the line editor (``readline``:
arrow keys, history saved between sessions) and Ctrl-C behave as in a shell: Ctrl-C cancels the
answer being written (the thread keeps nothing of that turn) or clears the line being typed, and
Ctrl-D quits.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ExitCode
from ._session import add_agent_arguments

if TYPE_CHECKING:
    from ..agent import Agent, RunResult
    from ..agent.result import PendingApproval
    from ._term import Term

__all__ = ["COMMANDS", "register"]

COMMANDS = {
    "/new": "start a new thread (forget the conversation so far)",
    "/thread": "show the current thread id",
    "/pending": "show tool calls that await approval",
    "/approve": "/approve [CALL_ID ...]: approve these calls (all undecided ones without ids)",
    "/reject": "/reject [CALL_ID ...]: reject these calls (all undecided ones without ids)",
    "/help": "this help",
    "/exit": "quit (also /quit or Ctrl-D)",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``aiops chat``."""
    parser = subparsers.add_parser(
        "chat",
        help="chat interactively (streaming, /help for commands)",
        description=(
            "Chat with the assistant. Type /help for commands. Ctrl-C cancels the answer being "
            "written, Ctrl-D quits. Threads are kept in the store (default: a SQLite file)."
        ),
    )
    add_agent_arguments(parser)
    parser.add_argument("--thread", metavar="ID", help="continue this stored thread")
    parser.add_argument("--user", metavar="NAME", help="owner of the threads")
    parser.set_defaults(func=_run)


def _new_thread() -> str:
    return f"chat-{uuid.uuid4().hex[:12]}"


def _history_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "aiops" / "chat_history"


class _LineReader:
    """Reads the user's lines: with ``readline`` on a terminal, echoed when piped."""

    def __init__(self, term: Term) -> None:
        self.term = term
        self.tty = term.interactive
        self.history: Path | None = None
        if self.tty:
            self._setup_readline()

    def _setup_readline(self) -> None:
        try:
            import readline
        except ImportError:  # pragma: no cover - Windows without pyreadline
            return
        self.history = _history_file()
        with suppress(OSError):
            readline.read_history_file(self.history)
        readline.set_history_length(1000)

    def save(self) -> None:
        if self.history is None:
            return
        import readline

        try:
            self.history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(self.history)
        except OSError:  # pragma: no cover - read-only home
            pass

    def prompt(self) -> str:
        label = self.term.style("you>", "bold", "green")
        if label != "you>":  # tell readline which bytes take no room on screen
            label = label.replace("\x1b[1;32m", "\x01\x1b[1;32m\x02").replace(
                "\x1b[0m", "\x01\x1b[0m\x02"
            )
        return f"{label} "

    def read(self) -> str:
        """The next line; ``EOFError`` at the end, ``KeyboardInterrupt`` on Ctrl-C."""
        if self.tty:
            return input(self.prompt())
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        text = line.rstrip("\n")
        self.term.out.write(f"{self.term.style('you>', 'bold', 'green')} {text}\n")
        return text

    def ask(self, question: str) -> str:
        """A yes/no question for approvals (the same input as the conversation)."""
        if self.tty:
            return input(question)
        self.term.out.write(question)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        self.term.out.write(line if line.endswith("\n") else line + "\n")
        return line


@asynccontextmanager
async def _session(args: argparse.Namespace) -> AsyncIterator[Agent]:
    from ._session import open_agent

    async with AsyncExitStack() as stack:
        yield await open_agent(args, stack)


class _Chat:
    """One chat session: the current thread, pending approvals and the command handlers."""

    def __init__(self, args: argparse.Namespace, agent: Agent, portal: Any) -> None:
        self.args = args
        self.term: Term = args.term
        self.agent = agent
        self.portal = portal
        self.thread: str = args.thread or _new_thread()
        self.pending: PendingApproval | None = None
        self.decisions: dict[str, bool] = {}
        self.reader = _LineReader(self.term)

    # ------------------------------------------------------------------ engine calls
    def _call(self, fn: Callable[..., Any], *fn_args: Any) -> Any:
        """Run ``fn`` in the engine's loop; Ctrl-C cancels it and returns ``None``."""
        future = self.portal.start_task_soon(fn, *fn_args)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            self.term.spinner.stop()
            self.term.out.write("\n")
            self.term.note("[cancelled: this turn was not kept]", "yellow")
            return None

    async def _turn(self, text: str) -> RunResult:
        from ._session import render_stream

        stream = self.agent.stream(text, thread_id=self.thread, user=self.args.user)
        show = not self.args.hide_thinking
        return await render_stream(stream, self.term, label="assistant> ", show_thinking=show)

    async def _load_pending(self) -> PendingApproval | None:
        from ._approval import pending_of

        if self.agent.store is None:
            return None
        thread = await self.agent.store.load(self.thread, owner=self.args.user)
        return pending_of(thread.info if thread else None)

    # ------------------------------------------------------------------ approvals
    def _after(self, result: RunResult | None) -> None:
        from ._approval import show_pending
        from ._session import usage_line

        if result is None:
            return
        if result.status == "pending_approval" and result.pending is not None:
            self.pending, self.decisions = result.pending, {}
            show_pending(self.term, result.pending)
            if self.reader.tty:
                self._ask_all()
            else:
                self.term.note("answer with /approve [CALL_ID ...] or /reject [CALL_ID ...]")
            return
        self.pending = None
        self.term.note(usage_line(result))

    def _ask_all(self) -> None:
        from ._approval import ask_decisions

        assert self.pending is not None
        approve, reject = ask_decisions(self.term, self.pending, self.reader.ask)
        self.decisions = {**dict.fromkeys(approve, True), **dict.fromkeys(reject, False)}
        self._resume_if_decided()

    def _decide(self, ids: list[str], approve: bool) -> None:
        if self.pending is None:
            self.term.note("nothing awaits approval in this thread")
            return
        known = {c.id for c in self.pending.calls}
        unknown = [i for i in ids if i not in known]
        if unknown:
            self.term.error(
                f"no pending call {', '.join(unknown)}; pending: {', '.join(sorted(known))}"
            )
            return
        for call_id in ids or [i for i in known if i not in self.decisions]:
            self.decisions[call_id] = approve
        self._resume_if_decided()

    def _resume_if_decided(self) -> None:
        from ._approval import resume

        pending = self.pending
        assert pending is not None
        undecided = [c.id for c in pending.calls if c.id not in self.decisions]
        if undecided:
            self.term.note(f"still undecided: {', '.join(undecided)}")
            return
        approve = [i for i, ok in self.decisions.items() if ok]
        reject = [i for i, ok in self.decisions.items() if not ok]

        async def go() -> RunResult:
            return await resume(
                self.agent,
                self.term,
                thread_id=self.thread,
                pending=pending,
                approve=approve,
                reject=reject,
                user=self.args.user,
            )

        self.pending, self.decisions = None, {}
        self._after(self._call(go))

    # ------------------------------------------------------------------ the loop
    def command(self, text: str) -> bool:
        """Handle a ``/command``; ``False`` ends the chat."""
        from ._approval import show_pending

        name, *rest = text.split()
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            width = max(len(c) for c in COMMANDS)
            lines = [f"  {c.ljust(width)}  {h}" for c, h in COMMANDS.items()]
            self.term.out.write("commands:\n" + "\n".join(lines) + "\n")
        elif name == "/thread":
            self.term.out.write(self.thread + "\n")
        elif name == "/new":
            self.thread, self.pending, self.decisions = _new_thread(), None, {}
            self.term.out.write(f"new thread {self.thread}\n")
        elif name == "/pending":
            if self.pending is None:
                self.term.note("nothing awaits approval in this thread")
            else:
                show_pending(self.term, self.pending)
        elif name in ("/approve", "/reject"):
            self._decide(rest, approve=name == "/approve")
        else:
            self.term.error(f"unknown command {name!r}; commands: {', '.join(COMMANDS)}, /quit")
        return True

    def loop(self) -> int:
        from ..errors import AiopsError
        from ._errors import describe

        term = self.term
        term.note(
            f"aiops chat with {self.agent.model.name} (thread {self.thread}); /help for commands"
        )
        if self.args.thread:
            self.pending = self._call(self._load_pending)
            if self.pending is not None:
                self._after_stored_pause()
        try:
            while True:
                try:
                    line = self.reader.read()
                except KeyboardInterrupt:
                    term.out.write("\n")
                    continue
                except EOFError:
                    if self.reader.tty:
                        term.out.write("\n")
                    break
                text = line.strip()
                if not text:
                    continue
                self.args.errors.in_chat = True
                self.args.errors.thread = self.thread
                try:
                    if text.startswith("/"):
                        if not self.command(text):
                            break
                    elif self.pending is not None:
                        term.error("tool calls await a decision: /approve or /reject first")
                    else:
                        self._after(self._call(self._turn, text))
                except AiopsError as err:
                    term.spinner.stop()
                    term.error(describe(err, self.args.errors)[0])
        finally:
            self.reader.save()
        return ExitCode.PENDING_APPROVAL if self.pending is not None else ExitCode.OK

    def _after_stored_pause(self) -> None:
        from ._approval import show_pending

        assert self.pending is not None
        show_pending(self.term, self.pending)
        if self.reader.tty:
            self._ask_all()
        else:
            self.term.note("answer with /approve [CALL_ID ...] or /reject [CALL_ID ...]")


def _run(args: argparse.Namespace) -> int:
    from anyio.from_thread import start_blocking_portal

    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_session(args)) as agent,
    ):
        return _Chat(args, agent, portal).loop()
