"""``validation``: input checks before the model sees a turn, output checks on its answer.

Input (the newest user message, once per run): empty input, longest input, deny patterns
(regular expressions, case-insensitive) raise :class:`~aiops_core.errors.ContentBlockedError`.

Output: credentials and other sensitive data (``output_types``, plus your ``output_patterns``)
are redacted from the answer, or the answer is blocked. Streamed answers are checked one line at
a time, so a secret never reaches the user even in a stream.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from pydantic import Field, field_validator

from .._types import StreamHandler
from ..errors import ContentBlockedError
from ..messages import ImagePart, UserMessage
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent
from ._fields import names_from, template
from ._patterns import PATTERNS, redact
from ._text import rewrite_response, rewrite_stream
from .base import Middleware, MiddlewareConfig

__all__ = ["ValidationConfig", "ValidationMiddleware"]

log = logging.getLogger("aiops_core.middleware.validation")

_KNOWN_TYPES = sorted({p.type for p in PATTERNS})


def _compile(patterns: list[str], field: str) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as err:
            raise ValueError(f"{field}: invalid regular expression {pattern!r}: {err}") from None
    return compiled


class ValidationConfig(MiddlewareConfig):
    """Config of the ``validation`` middleware."""

    allow_empty: bool = Field(False, description="accept an empty user message")
    max_input_chars: int | None = Field(
        20_000, ge=1, description="longest user message (None: any)"
    )
    deny_patterns: list[str] = Field(
        default_factory=list, description="regexes that block the input"
    )
    output_action: Literal["redact", "block", "off"] = Field(
        "redact", description="what to do when the answer holds sensitive data"
    )
    output_types: Annotated[list[str], names_from(_KNOWN_TYPES, "types")] = Field(
        default_factory=lambda: ["api_key", "password", "private_key"],
        description="built-in sensitive-data types checked in the answer: "
        + ", ".join(_KNOWN_TYPES),
    )
    output_patterns: list[str] = Field(
        default_factory=list, description="extra regexes checked in the answer"
    )
    replacement: Annotated[str, template(type="x")] = Field(
        "[REDACTED:{type}]", description="replacement text; {type} is the type"
    )

    @field_validator("deny_patterns", "output_patterns")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        _compile(value, "pattern")
        return value


class ValidationMiddleware(Middleware[ValidationConfig]):
    """Input checks (empty, length, deny patterns) and output checks (redact or block secrets)."""

    name = "validation"

    def setup(self) -> None:
        self.deny = _compile(self.config.deny_patterns, "deny_patterns")
        self.extra = _compile(self.config.output_patterns, "output_patterns")
        self._checked: UserMessage | None = None

    # -- input ---------------------------------------------------------------------------------
    def check_input(self, message: UserMessage) -> None:
        """Raise :class:`ContentBlockedError` when the message breaks an input rule."""
        text = message.text
        has_image = isinstance(message.content, list) and any(
            isinstance(p, ImagePart) for p in message.content
        )
        if not text.strip() and not has_image and not self.config.allow_empty:
            raise ContentBlockedError("The message is empty; type a question", middleware=self.name)
        limit = self.config.max_input_chars
        if limit is not None and len(text) > limit:
            raise ContentBlockedError(
                f"The message is {len(text)} characters long; the limit is {limit}",
                middleware=self.name,
            )
        for pattern in self.deny:
            if pattern.search(text):
                log.warning("validation: input blocked by deny pattern %r", pattern.pattern)
                raise ContentBlockedError(
                    "The message was blocked by a content rule", middleware=self.name
                )

    async def before_model(self, request: ModelRequest) -> ModelRequest | None:
        latest = next((m for m in reversed(request.messages) if isinstance(m, UserMessage)), None)
        if latest is not None and latest is not self._checked:
            self.check_input(latest)
            self._checked = latest
        return None

    # -- output --------------------------------------------------------------------------------
    def check_output(self, text: str) -> str:
        """The text with sensitive data redacted, or :class:`ContentBlockedError` when blocking."""
        cfg = self.config
        if cfg.output_action == "off" or not text:
            return text
        clean, found = redact(text, cfg.output_types, cfg.replacement)
        for pattern in self.extra:
            clean, count = pattern.subn(cfg.replacement.format(type="custom"), clean)
            found += ["custom"] * count
        if not found:
            return text
        if cfg.output_action == "block":
            raise ContentBlockedError(
                "The answer was blocked: it contained sensitive data "
                f"({', '.join(sorted(set(found)))})",
                middleware=self.name,
            )
        log.info("validation: redacted %d sensitive item(s) from the answer", len(found))
        return clean

    async def after_model(
        self, request: ModelRequest, response: ModelResponse
    ) -> ModelResponse | None:
        return rewrite_response(response, self.check_output)

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        await self.before_model(request)
        async for event in rewrite_stream(call_next(request), self.check_output):
            yield event
