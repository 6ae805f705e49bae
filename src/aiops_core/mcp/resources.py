"""Resources of one MCP server: list, read, and subscribe to updates.

:class:`ServerResources` lives as long as its :class:`~aiops_core.mcp.session.ServerSession`.
Subscriptions belong to it, not to one connection: after a reconnect they are sent to the server
again, so a subscriber keeps getting ``notifications/resources/updated`` for its URIs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio

from ..errors import MCPError
from ..messages import ContentPart
from .convert import convert_resource_contents

if TYPE_CHECKING:
    from mcp import ClientSession

    from .session import ServerSession

__all__ = ["ResourceInfo", "ResourceTemplateInfo", "ServerResources", "UpdateCallback"]

log = logging.getLogger("aiops_core.mcp")

UpdateCallback: TypeAlias = Callable[[str, str], Awaitable[None]]
"""``async on_update(server, uri)``: a subscribed resource changed (read it again for the news)."""


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """A resource a server offers."""

    server: str
    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the CLI, the REST API)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ResourceTemplateInfo:
    """A parameterised resource (an RFC 6570 URI template) a server offers."""

    server: str
    uri_template: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the CLI, the REST API)."""
        return dataclasses.asdict(self)


class ServerResources:
    """List, read and subscribe to one server's resources."""

    def __init__(self, owner: ServerSession) -> None:
        self._owner = owner
        self._subscribers: dict[str, list[UpdateCallback]] = {}
        self.changes = 0
        """How many ``resources/list_changed`` notifications the server has sent."""

    @property
    def offered(self) -> bool:
        """Whether the connected server declares the resources capability."""
        return _capability(self._owner, "resources") is not None

    def subscribed(self) -> list[str]:
        """URIs with subscribers."""
        return list(self._subscribers)

    async def available(self) -> list[ResourceInfo]:
        """Every page of ``resources/list`` (``[]`` when the server has no resources)."""
        if not self.offered:
            return []
        session = self._session()
        items = await paginate(self._owner, session.list_resources, "resources", "list resources")
        name = self._owner.name
        return [
            ResourceInfo(name, str(r.uri), r.name, r.title, r.description, r.mime_type, r.size)
            for r in items
        ]

    async def templates(self) -> list[ResourceTemplateInfo]:
        """Every page of ``resources/templates/list``."""
        if not self.offered:
            return []
        session = self._session()
        items = await paginate(
            self._owner,
            session.list_resource_templates,
            "resource_templates",
            "list resource templates",
        )
        name = self._owner.name
        return [
            ResourceTemplateInfo(name, t.uri_template, t.name, t.title, t.description, t.mime_type)
            for t in items
        ]

    async def read(self, uri: str) -> list[ContentPart]:
        """The resource's contents as content parts (text, images, markers for other blobs)."""
        session = self._session()
        result = await self._request(session.read_resource(uri), f"read {uri}")
        return [convert_resource_contents(item) for item in result.contents]

    async def subscribe(self, uri: str, on_update: UpdateCallback) -> None:
        """Call ``on_update(server, uri)`` whenever the server reports a change of ``uri``.

        Raises:
            MCPError: the server does not support subscriptions, or refused this one.
        """
        caps = _capability(self._owner, "resources")
        if caps is None or not caps.subscribe:
            raise MCPError("does not support resource subscriptions", server=self._owner.name)
        first = uri not in self._subscribers
        self._subscribers.setdefault(uri, []).append(on_update)
        if first:
            try:
                await self._send("subscribe", uri, self._session())
            except BaseException:
                self._subscribers.pop(uri, None)
                raise

    async def unsubscribe(self, uri: str, on_update: UpdateCallback | None = None) -> None:
        """Stop one callback (or all, with ``None``) from getting updates of ``uri``."""
        callbacks = self._subscribers.get(uri, [])
        remaining = [c for c in callbacks if on_update is not None and c is not on_update]
        if remaining:
            self._subscribers[uri] = remaining
            return
        if self._subscribers.pop(uri, None) is not None and self._owner.healthy:
            await self._send("unsubscribe", uri, self._session())

    async def restore(self, session: ClientSession) -> None:
        """Subscribe again on a new connection (called by the session after the handshake)."""
        for uri in list(self._subscribers):
            try:
                await self._send("subscribe", uri, session)
            except Exception as err:
                log.warning(
                    "MCP server %r: could not renew the subscription to %s: %s",
                    self._owner.name,
                    uri,
                    err,
                )

    async def notify(self, message: Any) -> None:
        """Handle the server's resource notifications (called by the session)."""
        import mcp_types

        if isinstance(message, mcp_types.ResourceUpdatedNotification):
            uri = str(message.params.uri)
            for callback in list(self._subscribers.get(uri, [])):
                try:
                    await callback(self._owner.name, uri)
                except Exception:
                    log.exception(
                        "MCP server %r: update callback for %s failed", self._owner.name, uri
                    )
        elif isinstance(message, mcp_types.ResourceListChangedNotification):
            self.changes += 1
            log.debug("MCP server %r: resource list changed", self._owner.name)

    # ------------------------------------------------------------------ plumbing
    def _session(self) -> ClientSession:
        session, _ = self._owner._live()
        return session

    async def _send(self, action: str, uri: str, session: ClientSession) -> None:
        import mcp_types

        # The typed requests, not ClientSession.subscribe_resource(): that helper is marked
        # deprecated for the 2026 protocol, while 2025 servers (today's) still use them.
        params = mcp_types.SubscribeRequestParams(uri=uri)
        request: Any = (
            mcp_types.SubscribeRequest(params=params)
            if action == "subscribe"
            else mcp_types.UnsubscribeRequest(params=mcp_types.UnsubscribeRequestParams(uri=uri))
        )
        await self._request(session.send_request(request, mcp_types.EmptyResult), f"{action} {uri}")

    async def _request(self, call: Awaitable[Any], what: str) -> Any:
        return await request(self._owner, call, what)


async def request(owner: ServerSession, call: Awaitable[Any], what: str) -> Any:
    """Await one request to ``owner``'s server with its timeout, mapping failures to MCP errors."""
    from mcp import MCPError as SdkError

    from ..errors import MCPTimeoutError

    try:
        with anyio.fail_after(owner.config.timeout):
            return await call
    except TimeoutError:
        raise MCPTimeoutError(
            f"could not {what} within {owner.config.timeout}s", server=owner.name
        ) from None
    except SdkError as err:
        raise MCPError(f"could not {what}: {err.message}", server=owner.name) from err


async def paginate(
    owner: ServerSession, listing: Callable[..., Awaitable[Any]], field: str, what: str
) -> list[Any]:
    """Every page of a paginated listing (``listing(params=...)``), items from ``field``."""
    import mcp_types

    items: list[Any] = []
    cursor: str | None = None
    while True:
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        result = await request(owner, listing(params=params), what)
        items.extend(getattr(result, field))
        cursor = result.next_cursor
        if not cursor:
            return items


def _capability(owner: ServerSession, name: str) -> Any:
    conn = owner._conn
    session = conn.session if conn is not None else None
    caps = session.server_capabilities if session is not None else None
    return getattr(caps, name, None) if caps is not None else None
