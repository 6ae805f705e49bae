"""Rows and middleware types shared by the Nautobot tests.

Three middleware types named ``aiops_test_*`` keep the tests independent of the built-in
middleware modules. They are registered only while a Nautobot test runs (see conftest.py), so
the engine's registry is unchanged for the core tests in the same pytest run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiops_core.middleware import Middleware, MiddlewareConfig
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


TEST_MIDDLEWARE: dict[str, type[Middleware]] = {
    cls.name: cls for cls in (GuardMiddleware, TraceMiddleware, AuditMiddleware)
}


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
