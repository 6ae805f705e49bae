"""Rows and middleware types shared by the Nautobot tests.

Two middleware types are registered under ``aiops_test_*`` names so that the tests do not
depend on which built-in middleware modules exist.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiops_core.middleware import Middleware, MiddlewareConfig, register_middleware
from aiops_nautobot import models


class GuardConfig(MiddlewareConfig):
    threshold: int = Field(3, ge=1)
    mode: Literal["warn", "block"] = "warn"


class GuardMiddleware(Middleware):
    """Blocks requests above a threshold (test type)."""

    name = "aiops_test_guard"
    Config = GuardConfig


class TraceConfig(MiddlewareConfig):
    label: str = "trace"


class TraceMiddleware(Middleware):
    """Labels requests (test type)."""

    name = "aiops_test_trace"
    Config = TraceConfig


class AuditMiddleware(Middleware):
    """Records requests (test type with no settings)."""

    name = "aiops_test_audit"


for _cls in (GuardMiddleware, TraceMiddleware, AuditMiddleware):
    register_middleware(_cls.name, _cls)


def provider(name: str = "test", **values) -> models.LLMProvider:
    """The provider row ``name`` (seeded rows are reused)."""
    row, _ = models.LLMProvider.objects.get_or_create(name=name, defaults=values)
    return row


def middleware_type(cls: type[Middleware]) -> models.MiddlewareType:
    row, _ = models.MiddlewareType.objects.get_or_create(
        name=cls.name, defaults={"default_config": cls.Config().model_dump(mode="json")}
    )
    return row


def llm_models(count: int = 3) -> list[models.LLMModel]:
    """``count`` models of the ``test`` provider with distinct field values."""
    test = provider("test")
    environments = ["LAB", "NONPROD", "PROD"]
    return [
        models.LLMModel.objects.create(
            provider=test,
            name=f"sample-model-{i}",
            description=f"Sample model {i}",
            temperature=0.5 * i,
            environment=environments[i % 3],
            config={"answer": f"answer {i}"},
        )
        for i in range(count)
    ]
