"""The app's OpenTelemetry switch: ``PLUGINS_CONFIG["aiops_nautobot"]["opentelemetry"]``.

Off by default. When on, every chat turn also records its run, model calls and tool calls as
GenAI-convention spans and metrics (:class:`aiops_core.usage.otel.OTelRecorder`) on the global
OpenTelemetry providers, the ones Nautobot sets up from its own ``OTEL_*`` settings and exports
over OTLP. Message bodies are exported only with ``capture_content``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from aiops_core.errors import UserError

if TYPE_CHECKING:
    from aiops_core.usage import OTelRecorder

__all__ = ["TELEMETRY_DEFAULTS", "TelemetryConfig", "otel_recorder", "parse_telemetry"]

TELEMETRY_DEFAULTS = {"enabled": False, "capture_content": False}


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """``enabled``: export spans and metrics of chat turns; ``capture_content``: with prompts,
    answers, tool arguments and results (they may hold what users typed: off by default)."""

    enabled: bool = False
    capture_content: bool = False


def parse_telemetry(value: object, *, where: str) -> TelemetryConfig:
    """``None`` (off), a bool (on/off), or a dict of :data:`TELEMETRY_DEFAULTS` keys.

    Raises:
        UserError: unknown keys or a value that is not a bool; the message says what to set.
    """
    if value is None:
        return TelemetryConfig()
    if isinstance(value, bool):
        return TelemetryConfig(enabled=value)
    if not isinstance(value, dict):
        raise UserError(f"{where} must be true, false or a dict such as {{'enabled': True}}")
    unknown = sorted(set(value) - set(TELEMETRY_DEFAULTS))
    if unknown:
        raise UserError(f"{where} has unknown keys {unknown}: use {sorted(TELEMETRY_DEFAULTS)}")
    for key in TELEMETRY_DEFAULTS:
        if not isinstance(value.get(key, False), bool):
            raise UserError(f"{where}[{key!r}] must be true or false, got {value[key]!r}")
    return TelemetryConfig(
        enabled=value.get("enabled", True), capture_content=value.get("capture_content", False)
    )


@cache
def otel_recorder(capture_content: bool) -> OTelRecorder:
    """One recorder per content setting for the process (its instruments are made once)."""
    from aiops_core.usage import OTelRecorder

    return OTelRecorder(capture_content=capture_content, agent_name="aiops_nautobot")
