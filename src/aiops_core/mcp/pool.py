"""``MCPClientPool``: persistent sessions to many MCP servers, offered to agents as tools.

Tool naming rule (predictable, documented): a tool keeps its own name unless another configured
server offers a tool of the same name; then every such tool is named ``{server}_{tool}`` (characters
outside ``A-Za-z0-9_-.`` become ``_``, cut to 128). The comparison uses each server's last known
tools, healthy or not, so names do not change when a server goes down and comes back. Should a
prefixed name still clash, later servers (in configuration order) get ``_2``, ``_3``, ...
Every description starts with ``[server]`` so the model knows where a tool runs.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from ..context import RunContext
from ..errors import UserError
from ..messages import ContentPart
from ..tools import Tool
from .callbacks import ClientFeatures, server_logger
from .config import MCPServerConfig
from .convert import convert_result
from .elicitation import ElicitationHandler, Pause
from .prompts import PromptInfo, PromptResult, get_prompt, list_prompts
from .resource_tools import resource_tools as build_resource_tools
from .resources import ResourceInfo, ResourceTemplateInfo, UpdateCallback
from .sampling import SamplingApprover
from .session import ServerSession
from .status import Backoff, ServerState, ServerStatus
from .tokens import TokenStore
from .transport import TransportFactory

if TYPE_CHECKING:
    import mcp_types
    from mcp.shared.dispatcher import ProgressFnT

    from ..providers.base import ChatModel
    from .auth import Authorizer

__all__ = ["MCPClientPool", "exposed_names"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-.]")


def exposed_names(tools_by_server: Mapping[str, Iterable[str]]) -> dict[tuple[str, str], str]:
    """Apply the pool's naming rule: ``(server, tool)`` -> the name the model sees."""
    listed = {server: list(dict.fromkeys(names)) for server, names in tools_by_server.items()}
    counts = Counter(name for names in listed.values() for name in names)
    result: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    # Unique names first, so a prefixed name can never take a plain name away.
    for prefixed in (False, True):
        for server, names in listed.items():
            for name in names:
                if (counts[name] > 1) is not prefixed:
                    continue
                base = _UNSAFE.sub("_", f"{server}_{name}" if prefixed else name)[:128] or "tool"
                candidate, n = base, 1
                while candidate in taken:
                    n += 1
                    candidate = f"{base[: 128 - len(str(n)) - 1]}_{n}"
                taken.add(candidate)
                result[server, name] = candidate
    return result


class MCPClientPool:
    """Long-lived sessions to many MCP servers; a :class:`~aiops_core.tools.Toolset`.

    Use as an async context manager; servers start concurrently on entry, each with its own
    ``startup_timeout``, and a server that fails never blocks the others::

        async with MCPClientPool([MCPServerConfig(name="time", command="python",
                                                  args=["-m", "mcp_server_time"])]) as pool:
            agent = Agent("openai:gpt-4o-mini", tools=[pool])   # tools fetched every run
            await agent.run("What time is it in Tokyo?")

    Args:
        servers: :class:`MCPServerConfig` objects or dicts of their fields. None is fine: the
            pool then offers no tools.
        tool_cache_ttl: seconds a server's tool listing is reused (refreshed on expiry, on the
            server's ``tools/list_changed`` notification, or with :meth:`refresh`).
        startup_timeout: seconds for one server's handshake and first tool listing.
        backoff: reconnect delays after failures.
        ping_interval: seconds between keep-alive pings on idle sessions (``None``: off).
        transport_factory: opens transports (tests pass :func:`memory_transport`).
        client_name: the client name sent to servers.
        elicitation: answers servers' requests for user input; ``"pause"``: such a request
            pauses the agent run whose tool call it interrupts, like a tool approval (see
            :mod:`~aiops_core.mcp.elicitation`); ``None``: the client declares no elicitation
            capability and servers cannot ask.
        sampling_model: answers sampling requests made outside an agent run (``"provider:model"``
            or a chat model); within a run, the run's model and middleware answer. Sampling is
            off unless a server's ``sampling.enabled`` is set.
        sampling_approver: asks a person about sampling requests of servers with
            ``sampling.approve``.
        roots: directories or ``file://`` URIs offered to every server as roots.
        token_store: where OAuth tokens are kept (default: in memory, for this process).
        authorizer: brings a person through an OAuth sign-in (the CLI's serves the callback on
            127.0.0.1); ``None``: servers that need a sign-in report "authorization required".
        resource_tools: offer the model two tools to list and read the servers' resources.
        oauth_url_check: ``check(url)``, called with every URL an OAuth flow is about to contact
            on its own (the authorization server's metadata, registration and token endpoints);
            raise to refuse (an application's outbound URL policy).
    """

    def __init__(
        self,
        servers: Iterable[MCPServerConfig | Mapping[str, Any]] = (),
        *,
        tool_cache_ttl: float = 300.0,
        startup_timeout: float = 10.0,
        backoff: Backoff | None = None,
        ping_interval: float | None = 60.0,
        transport_factory: TransportFactory | None = None,
        client_name: str = "aiops",
        elicitation: ElicitationHandler | Pause | None = None,
        sampling_model: ChatModel | str | None = None,
        sampling_approver: SamplingApprover | None = None,
        roots: Iterable[str] = (),
        token_store: TokenStore | None = None,
        authorizer: Authorizer | None = None,
        resource_tools: bool = False,
        oauth_url_check: Callable[[str], None] | None = None,
    ) -> None:
        if tool_cache_ttl < 0 or startup_timeout <= 0:
            raise UserError("tool_cache_ttl must be >= 0 and startup_timeout > 0")
        configs = [MCPServerConfig.from_dict(s) for s in servers]
        dupes = sorted(n for n, c in Counter(c.name for c in configs).items() if c > 1)
        if dupes:
            raise UserError(f"MCP server names must be unique; repeated: {', '.join(dupes)}")
        if isinstance(sampling_model, str):
            from ..providers.registry import get_chat_model

            sampling_model = get_chat_model(sampling_model)
        self.features = ClientFeatures(
            elicitation=elicitation,
            sampling_model=sampling_model,
            sampling_approver=sampling_approver,
            roots=tuple(roots),
            authorizer=authorizer,
            url_check=oauth_url_check,
        )
        if token_store is not None:
            self.features.token_store = token_store
        self._sessions: dict[str, ServerSession] = {
            c.name: ServerSession(
                c,
                transport_factory=transport_factory,
                tool_cache_ttl=tool_cache_ttl,
                startup_timeout=startup_timeout,
                backoff=backoff,
                ping_interval=ping_interval,
                client_name=client_name,
                features=self.features,
            )
            for c in configs
        }
        self._startup_timeout = startup_timeout
        self._resource_tools = build_resource_tools(self) if resource_tools else []
        self._tg: anyio.abc.TaskGroup | None = None
        self._state = "new"
        self._cache_key: tuple[int, ...] | None = None
        self._cache: list[Tool] = []

    def __repr__(self) -> str:
        return f"MCPClientPool(servers={list(self._sessions)!r}, state={self._state!r})"

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> MCPClientPool:
        if self._state != "new":
            raise UserError(f"This MCPClientPool is {self._state}; create a new pool to open again")
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._state = "open"
        enabled = [s for s in self._sessions.values() if s.config.enabled]
        for session in enabled:
            self._tg.start_soon(session.run, name=f"mcp:{session.name}")
        # Every attempt ends within its own startup timeout; the margin covers process spawn.
        with anyio.move_on_after(self._startup_timeout + 5):
            for session in enabled:
                await session.first_attempt.wait()
        # A person signing in is not a slow server: wait for them (the sign-in has its own limit).
        for session in enabled:
            if session.auth.authorizing:
                await session.first_attempt.wait()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        await self.aclose(exc_type, exc, tb)
        return None

    async def aclose(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        """Close every session (concurrently, bounded) and stop the supervisors."""
        if self._tg is None or self._state != "open":
            return
        self._state = "closed"
        for session in self._sessions.values():
            session.close()
        # Graceful first (stdio servers get stdin EOF, HTTP sessions a DELETE); then cancel.
        self._tg.cancel_scope.deadline = anyio.current_time() + 10
        tg, self._tg = self._tg, None
        # The body's own exception propagates unwrapped; only the supervisors are joined here.
        await tg.__aexit__(None, None, None)

    @property
    def is_open(self) -> bool:
        return self._state == "open"

    # ------------------------------------------------------------------ introspection
    @property
    def servers(self) -> list[str]:
        """Configured server names, in configuration order."""
        return list(self._sessions)

    def session(self, server: str) -> ServerSession:
        """The managed session of one server (raises :class:`UserError` for unknown names)."""
        try:
            return self._sessions[server]
        except KeyError:
            known = ", ".join(self._sessions) or "(none)"
            raise UserError(f"Unknown MCP server {server!r}; configured: {known}") from None

    def status(self) -> list[ServerStatus]:
        """Per server: state, last error, tool count, last check."""
        return [s.status() for s in self._sessions.values()]

    # ------------------------------------------------------------------ tools
    async def list_tools(self) -> list[Tool]:
        """Tools of every healthy server, named by the module's rule (cached per server TTL)."""
        self._require_open()
        live = [s for s in self._sessions.values() if s.healthy]
        if live:
            async with anyio.create_task_group() as tg:
                for session in live:
                    tg.start_soon(session.tools)
        key = tuple(s.version for s in self._sessions.values())
        if key != self._cache_key:
            self._cache, self._cache_key = self._build_tools(), key
        if self._resource_tools and any(s.healthy and s.resources.offered for s in live):
            return [*self._cache, *self._resource_tools]
        return list(self._cache)

    async def refresh(self, server: str | None = None) -> None:
        """Fetch tool listings now (one server, or all healthy ones)."""
        self._require_open()
        targets = [self.session(server)] if server else list(self._sessions.values())
        for session in targets:
            session.invalidate()
        async with anyio.create_task_group() as tg:
            for session in targets:
                if session.healthy:
                    tg.start_soon(session.tools)

    def reconnect(self, server: str) -> None:
        """Reconnect one server now instead of waiting out its backoff."""
        self._require_open()
        self.session(server).request_reconnect()

    async def call_tool(
        self,
        server: str,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        progress: ProgressFnT | None = None,
        context: RunContext | None = None,
        call_timeout: float | None = None,
    ) -> mcp_types.CallToolResult:
        """Call a tool by its server's own name for it (the raw MCP result).

        Args:
            server: the server.
            tool: the server's name for the tool.
            arguments: its arguments.
            progress: ``async (progress, total, message)``, called for the server's progress
                notifications about this call.
            context: the agent run making the call (elicitation and sampling answer for it).
            call_timeout: seconds to wait (default: the server's ``timeout``); cancelling the call
                (or its timing out) cancels the request on the server.
        """
        self._require_open()
        return await self.session(server).call_tool(
            tool,
            dict(arguments or {}),
            call_timeout=call_timeout,
            progress=progress,
            context=context,
        )

    # ------------------------------------------------------------------ resources and prompts
    async def list_resources(self, server: str | None = None) -> list[ResourceInfo]:
        """Resources of one server, or of every healthy server (in configuration order)."""
        return await self._gather(server, lambda s: s.resources.available())

    async def list_resource_templates(
        self, server: str | None = None
    ) -> list[ResourceTemplateInfo]:
        """Resource templates of one server, or of every healthy server."""
        return await self._gather(server, lambda s: s.resources.templates())

    async def read_resource(self, server: str, uri: str) -> list[ContentPart]:
        """A resource's contents (text, images, markers for other binary data)."""
        self._require_open()
        return await self.session(server).resources.read(uri)

    async def subscribe(self, server: str, uri: str, on_update: UpdateCallback) -> None:
        """Call ``on_update(server, uri)`` on every change of the resource (kept across reconnects)."""
        self._require_open()
        await self.session(server).resources.subscribe(uri, on_update)

    async def unsubscribe(
        self, server: str, uri: str, on_update: UpdateCallback | None = None
    ) -> None:
        """Stop ``on_update`` (or every callback) from getting changes of the resource."""
        self._require_open()
        await self.session(server).resources.unsubscribe(uri, on_update)

    async def list_prompts(self, server: str | None = None) -> list[PromptInfo]:
        """Prompts of one server, or of every healthy server."""
        return await self._gather(server, list_prompts)

    async def get_prompt(
        self, server: str, name: str, arguments: Mapping[str, str] | None = None
    ) -> PromptResult:
        """A prompt filled in; ``.text`` suits a system prompt, ``.messages`` a conversation."""
        self._require_open()
        return await get_prompt(self.session(server), name, arguments)

    async def _gather(self, server: str | None, fetch: Any) -> list[Any]:
        self._require_open()
        if server is not None:
            return list(await fetch(self.session(server)))
        live = [s for s in self._sessions.values() if s.healthy]
        found: dict[str, list[Any]] = {}

        async def one(session: ServerSession) -> None:
            try:
                found[session.name] = list(await fetch(session))
            except Exception as err:  # one failing server never hides the others
                server_logger(session.name).warning("listing failed: %s", err)

        async with anyio.create_task_group() as tg:
            for session in live:
                tg.start_soon(one, session)
        return [item for s in live for item in found.get(s.name, [])]

    def _require_open(self) -> None:
        if self._state != "open":
            raise UserError(
                f"This MCPClientPool is {self._state}: use it inside `async with pool:`"
            )

    def _build_tools(self) -> list[Tool]:
        sessions = list(self._sessions.values())
        known = {s.name: [t.name for t in s.offered_tools()] for s in sessions}
        names = exposed_names(known)
        tools: list[Tool] = []
        for session in sessions:
            if session.state is not ServerState.HEALTHY:
                continue
            for spec in session.offered_tools():
                tools.append(_make_tool(session, spec, names[session.name, spec.name]))
        return tools


def _make_tool(session: ServerSession, spec: mcp_types.Tool, exposed: str) -> Tool:
    description = (spec.description or spec.title or spec.name).strip()
    schema = dict(spec.input_schema or {})
    schema.setdefault("type", "object")
    schema.pop("title", None)
    server_name, tool_name = session.name, spec.name
    logger = server_logger(server_name)

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        logger.debug("%s: progress %s/%s %s", tool_name, progress, total, message or "")

    async def handler(arguments: dict[str, Any], context: RunContext) -> str | list[ContentPart]:
        # Asking for progress costs a token per call: only when someone reads it.
        progress = on_progress if logger.isEnabledFor(logging.DEBUG) else None
        result = await session.call_tool(tool_name, arguments, progress=progress, context=context)
        return convert_result(result) or ""

    return Tool(
        exposed,
        f"[{server_name}] {description}",
        schema,
        handler,
        metadata={"server": server_name, "mcp_tool": tool_name},
    )
