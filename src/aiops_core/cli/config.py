"""The CLI's TOML config file (``--config FILE``)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import UserError, format_validation_error
from ..middleware.base import MiddlewareSpec

if TYPE_CHECKING:
    from ..mcp import MCPServerConfig

__all__ = ["AppConfig", "load_config"]


class AppConfig(BaseModel):
    """What an ``aiops`` config file holds; every key is optional.

    Example::

        model = "openai:gpt-4o-mini"
        system_prompt = "You are a network operations assistant."
        store = "sqlite:///aiops.db"
        usage = "sqlite:///usage.db"     # record model and tool calls (see 'aiops usage')
        max_steps = 20
        [model_options]
        temperature = 0.2
        [[middleware]]
        type = "retry"
        priority = 30
        config = { max_attempts = 3 }
        [[mcp_servers]]
        name = "time"
        transport = "stdio"
        command = "python"
        args = ["-m", "mcp_server_time"]
    """

    model_config = ConfigDict(extra="forbid")

    model: str = "test"
    system_prompt: str | None = None
    store: str | None = None
    usage: str | None = None
    max_steps: int = Field(20, ge=1)
    model_options: dict[str, Any] = Field(default_factory=dict)
    middleware: list[dict[str, Any]] = Field(default_factory=list)
    mcp_servers: list[dict[str, Any]] = Field(default_factory=list)

    def middleware_specs(self) -> list[MiddlewareSpec]:
        """The ``[[middleware]]`` tables as specs (priority and keys checked)."""
        specs = []
        for index, entry in enumerate(self.middleware):
            unknown = set(entry) - {"type", "priority", "config", "active", "critical"}
            if unknown or "type" not in entry:
                raise UserError(
                    f"middleware[{index}]: needs 'type' and may have priority, config, active, "
                    f"critical; unknown keys: {sorted(unknown)}"
                )
            specs.append(MiddlewareSpec(**entry))
        return specs

    def mcp_server_configs(self) -> list[MCPServerConfig]:
        """The ``[[mcp_servers]]`` tables as validated server configs."""
        from ..mcp import MCPServerConfig

        out = []
        for index, entry in enumerate(self.mcp_servers):
            try:
                out.append(MCPServerConfig.model_validate(entry))
            except ValidationError as err:
                problems = format_validation_error(err, root="entry")
                raise UserError(f"Config file: mcp_servers[{index}]: {problems}") from None
        return out


def load_config(path: str | Path | None) -> AppConfig:
    """Read a TOML config file; ``None`` gives the defaults."""
    if path is None:
        return AppConfig.model_validate({})
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"Config file {str(file)!r} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"Config file {str(file)!r} is not valid TOML: {err}") from None
    try:
        return AppConfig.model_validate(data)
    except ValidationError as err:
        problems = format_validation_error(err, root="file")
        raise UserError(f"Config file {str(file)!r}: {problems}") from None
