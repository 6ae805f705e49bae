"""Prompts of MCP servers: list them, and get one filled in as aiops messages.

A prompt is a server's template of messages. :meth:`PromptResult.text` joins them into one text,
ready for an agent's ``system_prompt`` (a prompt as a system-prompt fragment); :attr:`messages`
keeps them as :mod:`aiops_core.messages` for a conversation that starts from the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..messages import AssistantMessage, Message, TextPart, UserMessage, content_text
from .convert import convert_content
from .resources import paginate, request

if TYPE_CHECKING:
    from .session import ServerSession

__all__ = ["PromptArgument", "PromptInfo", "PromptResult", "get_prompt", "list_prompts"]


@dataclass(frozen=True, slots=True)
class PromptArgument:
    """One argument of a prompt."""

    name: str
    description: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class PromptInfo:
    """A prompt a server offers."""

    server: str
    name: str
    title: str | None = None
    description: str | None = None
    arguments: list[PromptArgument] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the CLI, the REST API)."""
        return {
            "server": self.server,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "arguments": [
                {"name": a.name, "description": a.description, "required": a.required}
                for a in self.arguments
            ],
        }


@dataclass(frozen=True, slots=True)
class PromptResult:
    """A prompt filled in by its server."""

    server: str
    name: str
    description: str | None
    messages: list[Message]

    @property
    def text(self) -> str:
        """The messages' text, one paragraph per message (for a system prompt)."""
        return "\n\n".join(content_text(m.content) for m in self.messages)


async def list_prompts(owner: ServerSession) -> list[PromptInfo]:
    """Every page of ``prompts/list`` (``[]`` when the server has no prompts)."""
    session, _ = owner._live()
    if session.server_capabilities is None or session.server_capabilities.prompts is None:
        return []
    items = await paginate(owner, session.list_prompts, "prompts", "list prompts")
    return [
        PromptInfo(
            owner.name,
            p.name,
            p.title,
            p.description,
            [PromptArgument(a.name, a.description, bool(a.required)) for a in p.arguments or []],
        )
        for p in items
    ]


async def get_prompt(
    owner: ServerSession, name: str, arguments: Mapping[str, str] | None = None
) -> PromptResult:
    """``prompts/get``: the prompt ``name`` filled in with ``arguments``."""
    session, _ = owner._live()
    result = await request(
        owner,
        session.get_prompt(name, {k: str(v) for k, v in (arguments or {}).items()}),
        f"get prompt {name!r}",
    )
    messages: list[Message] = []
    for item in result.messages:
        part = convert_content(item.content)
        if item.role == "assistant":
            text = part.text if isinstance(part, TextPart) else content_text([part])
            messages.append(AssistantMessage(content=text))
        else:
            messages.append(
                UserMessage(content=part.text if isinstance(part, TextPart) else [part])
            )
    return PromptResult(owner.name, name, result.description, messages)
