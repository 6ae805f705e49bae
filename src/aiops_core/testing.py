"""Helpers for testing code built on aiops_core, without a real model.

:func:`block_model_requests` makes every request to a real provider (the SDK-backed models:
OpenAI, Azure OpenAI, Anthropic, Ollama, Hugging Face) fail at once with
:class:`~aiops_core.errors.ModelRequestsBlocked`, before any connection is made; offline models
(``TestModel``, ``FunctionModel``) still answer. Setting the environment variable
``AIOPS_BLOCK_MODEL_REQUESTS=1`` does the same for a whole test session (for example in CI);
:func:`allow_model_requests` lifts the block inside a block, for the few tests meant to reach a
(local) server. The switch is process-wide, so it also covers runs on other threads
(``run_sync``, ``stream_sync``, a web app's worker loop).

Pair it with :meth:`Agent.override <aiops_core.agent.Agent.override>` to give the code under
test an offline model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from .errors import ModelRequestsBlocked

__all__ = [
    "BLOCK_ENV",
    "allow_model_requests",
    "block_model_requests",
    "check_model_request",
    "model_requests_blocked",
]

BLOCK_ENV = "AIOPS_BLOCK_MODEL_REQUESTS"
"""The environment variable that blocks model requests when set to 1 / true / yes / on."""

_lock = threading.Lock()
_switches: list[tuple[object, bool]] = []
"""The open block_/allow_model_requests() blocks, newest last: the newest wins; none: the env var."""


def model_requests_blocked() -> bool:
    """Whether requests to real models are blocked now."""
    if _switches:
        return _switches[-1][1]
    return os.environ.get(BLOCK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def check_model_request(model: str) -> None:
    """Raise :class:`ModelRequestsBlocked` when requests to real models are blocked.

    Args:
        model: the ``provider:model`` label of the model about to be called.
    """
    if model_requests_blocked():
        raise ModelRequestsBlocked(
            f"A request to the real model {model!r} was blocked: model requests are blocked in "
            f"tests (aiops_core.testing.block_model_requests() or {BLOCK_ENV}=1). Give the agent "
            "an offline model, e.g. `with agent.override(model=TestModel()):` or a FunctionModel, "
            "or wrap a test that must reach a server in aiops_core.testing.allow_model_requests()"
        )


@contextmanager
def _switch(blocked: bool) -> Iterator[None]:
    token = object()
    with _lock:
        _switches.append((token, blocked))
    try:
        yield
    finally:
        with _lock:
            _switches[:] = [s for s in _switches if s[0] is not token]


def block_model_requests() -> AbstractContextManager[None]:
    """Block requests to real models inside the ``with`` block (see the module docstring)."""
    return _switch(True)


def allow_model_requests() -> AbstractContextManager[None]:
    """Allow requests to real models inside the ``with`` block, even when blocked outside."""
    return _switch(False)
