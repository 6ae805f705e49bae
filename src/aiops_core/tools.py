"""Tools: typed functions the model may call.

``@tool`` turns a typed function (sync or async) and its Google-style docstring into a
:class:`Tool` with a name, a description and a JSON schema. Arguments are validated before the
call; invalid arguments, exceptions and timeouts come back to the model as a tool error message
(type and message, never a traceback), so a failing tool never crashes a run; the traceback of
a tool's exception is logged (logger ``aiops_core.tools``, WARNING) for the developer.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, get_origin, get_type_hints, overload, runtime_checkable

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .approval import Approval
from .context import RunContext
from .errors import (
    ApprovalRequired,
    ModelRetry,
    ToolRetriesExceeded,
    UserError,
    format_validation_error,
)
from .messages import (
    ContentPart,
    DataPart,
    ImagePart,
    TextPart,
    ToolCall,
    ToolResultMessage,
)
from .truncation import truncate_content, truncate_text

__all__ = [
    "Tool",
    "ToolDefinition",
    "ToolInvocation",
    "Toolset",
    "execute_tool",
    "to_content",
    "tool",
    "tool_error",
]

log = logging.getLogger("aiops_core.tools")

ToolHandlerFunc = Callable[[dict[str, Any], RunContext], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """What the model sees of a tool."""

    name: str
    description: str
    parameters: dict[str, Any]


class Tool:
    """A named, described, schema-checked async callable.

    Build one with :func:`tool`, or directly with a ``handler(arguments, context)`` coroutine
    function when the arguments are validated elsewhere (the MCP pool does this).

    Args:
        name: the name the model calls (letters, digits, ``_`` and ``-``).
        description: what the tool does, for the model.
        parameters: JSON schema of the arguments object.
        handler: ``async (arguments, context) -> result``.
        timeout: seconds before the call is abandoned (``None``: the agent's default).
        metadata: free-form labels (for example ``{"server": "time"}`` for MCP tools).
        max_retries: how many times in a row the tool may raise
            :class:`~aiops_core.errors.ModelRetry` (``None``: the agent's ``tool_retries``).
    """

    __slots__ = (
        "_definition",
        "description",
        "handler",
        "max_retries",
        "metadata",
        "name",
        "parameters",
        "timeout",
    )

    def __init__(
        self,
        name: str,
        description: str,
        parameters: Mapping[str, Any],
        handler: ToolHandlerFunc,
        *,
        timeout: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        max_retries: int | None = None,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_\-.]{1,128}", name):
            raise UserError(
                f"Tool name {name!r} is invalid: use 1-128 letters, digits, '_', '-' or '.'"
            )
        if timeout is not None and timeout <= 0:
            raise UserError(f"Tool {name!r}: timeout must be positive, got {timeout}")
        if max_retries is not None and max_retries < 0:
            raise UserError(f"Tool {name!r}: max_retries must be 0 or more, got {max_retries}")
        self.max_retries = max_retries
        self.name = name
        self.description = description
        self.parameters = dict(parameters)
        self.handler = handler
        self.timeout = timeout
        self.metadata = dict(metadata or {})
        self._definition = ToolDefinition(name, description, self.parameters)

    def definition(self) -> ToolDefinition:
        """The tool as the model sees it."""
        return self._definition

    async def invoke(self, arguments: dict[str, Any], context: RunContext) -> Any:
        """Call the tool with raw arguments (validation happens in the handler)."""
        return await self.handler(arguments, context)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"


@dataclass(slots=True)
class ToolInvocation:
    """One tool call on its way through the middleware chain.

    ``approval`` is set only on the invocation a person approved, on the resume of the paused
    run it belongs to (see :mod:`aiops_core.approval`); :attr:`approved` checks that it covers
    this very call. ``max_result_chars`` caps the result :func:`execute_tool` returns (see
    :mod:`aiops_core.truncation`; ``None``: no cap).
    """

    call: ToolCall
    tool: Tool | None
    context: RunContext
    timeout: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    approval: Approval | None = None
    max_result_chars: int | None = None
    max_retries: int = 1
    """Retries in a row a tool without its own ``max_retries`` may ask for (:class:`ModelRetry`)."""

    @property
    def approved(self) -> bool:
        """Whether a person approved this call (same id, tool and arguments), for this run."""
        return self.approval is not None and self.approval.covers(self.call)


class ToolArgumentsError(Exception):
    """Raised inside a handler when arguments fail validation; becomes a tool error."""


# ---------------------------------------------------------------- @tool

_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_SECTION = re.compile(r"^\s*[A-Z][A-Za-z ]*:\s*$")
_PARAM = re.compile(r"^\s*(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {param: description})."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    desc: list[str] = []
    params: dict[str, str] = {}
    i = 0
    while i < len(lines) and not _SECTION.match(lines[i]):
        desc.append(lines[i])
        i += 1
    current: str | None = None
    in_args = False
    for line in lines[i:]:
        if _ARGS_HEADER.match(line):
            in_args, current = True, None
            continue
        if _SECTION.match(line) and not line.startswith((" ", "\t")):
            in_args, current = False, None
            continue
        if not in_args:
            continue
        match = _PARAM.match(line)
        indent = len(line) - len(line.lstrip())
        if match and indent <= 4:
            current = match.group(1).lstrip("*")
            params[current] = match.group(3).strip()
        elif current and line.strip():
            params[current] = f"{params[current]} {line.strip()}".strip()
    return "\n".join(desc).strip(), params


_MODEL_CACHE_SIZE = 512
_models: dict[Any, tuple[type[BaseModel], dict[str, Any]]] = {}
"""Arguments models and schemas by tool name and fields: tools rebuilt per request (closures
bound to a user) reuse them instead of building a pydantic model each time. Bounded."""


def _arguments_model(
    tool_name: str, fields: Mapping[str, Any]
) -> tuple[type[BaseModel], dict[str, Any]]:
    """The pydantic model validating a tool's arguments and its JSON schema (a fresh copy)."""
    key: Any = None
    try:
        key = (
            tool_name,
            tuple((n, a, f.default, f.description) for n, (a, f) in fields.items()),
        )
        cached = _models.get(key)
    except TypeError:  # an unhashable default or annotation: build it every time
        key, cached = None, None
    if cached is None:
        try:
            model: type[BaseModel] = create_model(
                f"{tool_name}_arguments",
                __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
                **fields,
            )
            schema = model.model_json_schema()
        except Exception as err:
            raise UserError(
                f"Tool {tool_name!r}: arguments need JSON-compatible types ({err})"
            ) from err
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        cached = (model, schema)
        if key is not None:
            if len(_models) >= _MODEL_CACHE_SIZE:
                _models.clear()
            _models[key] = cached
    return cached[0], copy.deepcopy(cached[1])


def _build(
    func: Callable[..., Any],
    name: str | None,
    description: str | None,
    timeout: float | None,
    metadata: Mapping[str, Any] | None,
    localns: Mapping[str, Any] | None = None,
    max_retries: int | None = None,
) -> Tool:
    tool_name = name or func.__name__
    doc_desc, doc_params = _parse_docstring(func.__doc__)
    try:
        hints = get_type_hints(func, localns=dict(localns or {}), include_extras=True)
    except Exception as err:
        raise UserError(f"Tool {tool_name!r}: cannot read type hints ({err})") from err
    fields: dict[str, Any] = {}
    context_param: str | None = None
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise UserError(
                f"Tool {tool_name!r}: *args/**kwargs are not supported; declare each argument"
            )
        annotation = hints.get(param.name, Any)
        if annotation is RunContext or get_origin(annotation) is RunContext:
            context_param = param.name
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, Field(default, description=doc_params.get(param.name)))
    model, schema = _arguments_model(tool_name, fields)
    is_async = inspect.iscoroutinefunction(func)
    field_names = tuple(fields)

    async def handler(arguments: dict[str, Any], context: RunContext) -> Any:
        try:
            validated = model.model_validate(arguments)
        except ValidationError as err:
            raise ToolArgumentsError(format_validation_error(err, root="arguments")) from None
        kwargs = {n: getattr(validated, n) for n in field_names}
        if context_param:
            kwargs[context_param] = context
        if is_async:
            return await func(**kwargs)
        return await anyio.to_thread.run_sync(partial(func, **kwargs), abandon_on_cancel=True)

    return Tool(
        tool_name,
        description if description is not None else doc_desc,
        schema,
        handler,
        timeout=timeout,
        metadata=metadata,
        max_retries=max_retries,
    )


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    metadata: Mapping[str, Any] | None = None,
    max_retries: int | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    metadata: Mapping[str, Any] | None = None,
    max_retries: int | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a :class:`Tool` from a typed function and its docstring.

    Use bare (``@tool``) or with options (``@tool(timeout=5)``). A parameter annotated
    :class:`~aiops_core.context.RunContext` receives the run's context and is hidden from the
    model (annotate it ``RunContext[MyDeps]`` to have ``ctx.deps`` typed). Sync functions run
    in a worker thread.

    Args:
        func: the function (when used bare).
        name: the tool's name; defaults to the function's name.
        description: overrides the docstring's description.
        timeout: seconds before the call is abandoned with a tool error.
        metadata: free-form labels, for example ``{"writes": True}``.
        max_retries: how many times in a row the tool may raise
            :class:`~aiops_core.errors.ModelRetry` (``None``: the agent's ``tool_retries``).
    """
    # Annotations of tools defined inside a function may name that function's locals.
    frame = inspect.currentframe()
    localns = frame.f_back.f_locals if frame is not None and frame.f_back is not None else None
    del frame
    if func is not None:
        return _build(func, name, description, timeout, metadata, localns, max_retries)
    return lambda f: _build(f, name, description, timeout, metadata, localns, max_retries)


# ---------------------------------------------------------------- execution


_COMPACT_JSON = json.JSONEncoder(
    separators=(",", ":")
)  # one instance: json.dumps builds one per call


def to_content(value: Any) -> str | list[ContentPart]:
    """Turn a tool's return value into tool-result content."""
    return _content(value)[0]


def _content(value: Any) -> tuple[str | list[ContentPart], int | None]:
    """:func:`to_content`, and its :func:`~aiops_core.truncation.content_size` when known."""
    if isinstance(value, str):
        return value, len(value)
    if isinstance(value, TextPart | ImagePart | DataPart):
        return [value], None
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, TextPart | ImagePart | DataPart) for v in value)
    ):
        return list(value), None
    if isinstance(value, BaseModel):
        return [DataPart(data=value.model_dump(mode="json"))], None
    try:
        text = _COMPACT_JSON.encode(value)  # also proves it is JSON-compatible
    except (TypeError, ValueError):
        text = str(value)
        return text, len(text)
    return [DataPart(data=value)], len(text)


def tool_error(call: ToolCall, message: str) -> ToolResultMessage:
    """A tool error result the model can read and correct."""
    return ToolResultMessage(tool_call_id=call.id, name=call.name, content=message, is_error=True)


async def execute_tool(invocation: ToolInvocation) -> ToolResultMessage:
    """Run one tool call; every failure becomes an error result, never an exception.

    A tool's :class:`~aiops_core.errors.ModelRetry` becomes an error result asking the model to
    try again; past the tool's ``max_retries`` in a row,
    :class:`~aiops_core.errors.ToolRetriesExceeded` is raised and ends the run.
    Cancellation propagates, so a cancelled run stops at once; so does
    :class:`~aiops_core.errors.ApprovalRequired` (e.g. an MCP tool whose server asked a person a
    question), which pauses the run. A tool labelled ``metadata={"requires_approval": True}``
    pauses the run unless this very call was approved, whatever middleware is configured. A
    result longer than ``invocation.max_result_chars`` is truncated with a marker saying so.
    """
    call, tool_ = invocation.call, invocation.tool
    if tool_ is None:
        return tool_error(
            call, f"Unknown tool {call.name!r}. Call one of the tools you were given."
        )
    if call.invalid_arguments is not None:
        return tool_error(
            call,
            f"Invalid arguments for tool {call.name!r}: not a JSON object "
            f"({call.invalid_arguments[:200]!r}). Send the arguments as a JSON object.",
        )
    if tool_.metadata.get("requires_approval") and not invocation.approved:
        # The tool's own label, not a middleware's config: no configuration can skip it.
        raise ApprovalRequired(f"Tool {call.name!r} changes data and always needs approval")
    timeout = tool_.timeout or invocation.timeout
    try:
        if timeout:
            with anyio.fail_after(timeout):
                value = await tool_.invoke(call.arguments, invocation.context)
        else:
            value = await tool_.invoke(call.arguments, invocation.context)
    except ToolArgumentsError as err:
        return tool_error(
            call, f"Invalid arguments for tool {call.name!r}: {err}. Fix them and call again."
        )
    except ModelRetry as retry:
        return _retry(invocation, tool_, retry)
    except TimeoutError:
        return tool_error(call, f"ToolTimeoutError: tool {call.name!r} timed out after {timeout}s")
    except (anyio.get_cancelled_exc_class(), ApprovalRequired):
        raise
    except Exception as err:  # its text may be anything (an MCP server's error text): capped too
        # The model gets type and message only; the developer gets the traceback in the log.
        log.warning("tool %r raised %s: %s", call.name, type(err).__name__, err, exc_info=True)
        message = f"{type(err).__name__}: {err}"
        limit = invocation.max_result_chars
        return tool_error(call, message if limit is None else truncate_text(message, limit))
    if invocation.context.retries:
        invocation.context.retries.pop(call.name, None)  # a success ends a run of retries
    content, size = _content(value)
    limit = invocation.max_result_chars
    if limit is not None and (size is None or size > limit):
        content = truncate_content(content, limit, size)
    return ToolResultMessage(tool_call_id=call.id, name=call.name, content=content)


def _retry(invocation: ToolInvocation, tool_: Tool, retry: ModelRetry) -> ToolResultMessage:
    """The retry prompt for a tool's :class:`ModelRetry`, or the run's end past its limit."""
    call, retries = invocation.call, invocation.context.retries
    allowed = invocation.max_retries if tool_.max_retries is None else tool_.max_retries
    count = retries.get(call.name, 0) + 1
    if count > allowed:
        raise ToolRetriesExceeded(
            f"Tool {call.name!r} asked the model to retry {count} times in a row (at most "
            f"{allowed}: @tool(max_retries=...) or Agent(tool_retries=...)); its last "
            f"message: {retry.message}",
            tool_name=call.name,
        )
    retries[call.name] = count
    message = f"{retry.message}\nFix the problem and call {call.name!r} again."
    limit = invocation.max_result_chars
    return tool_error(call, message if limit is None else truncate_text(message, limit))


@runtime_checkable
class Toolset(Protocol):
    """A source of tools fetched at the start of every run (the MCP pool is one)."""

    async def list_tools(self) -> list[Tool]: ...
