"""The model catalog: prices and limits per model, and the cost of a call.

Prices are in US dollars per million tokens. A price that is not known is ``None`` and makes the
cost of a call ``None`` (unknown), never zero: an unpriced model is not free. The built-in
entries are a starting point; operators override them (their contract prices, new models) with
:meth:`ModelCatalog.with_entries`. Cost is computed once, when a call finishes, and frozen in its
usage record: a later price change does not rewrite history.

Every provider handler reports ``input_tokens`` as the whole prompt, of which ``cached_tokens``
were read from the provider's prompt cache (Anthropic's separate counts are added up by its
handler), so :func:`call_cost` bills ``cached_tokens`` at the cached-input price and the rest at
the input price, never twice. Tokens written to a cache (Anthropic bills them at 1.25x) are
billed at the input price: the catalog has no cache-write price yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from .errors import UserError
from .messages import Usage

__all__ = [
    "DEFAULT_CATALOG",
    "ModelCatalog",
    "ModelInfo",
    "call_cost",
    "split_model",
]

_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the catalog knows about one model.

    Attributes:
        input_price: dollars per million uncached input tokens (``None``: unknown).
        output_price: dollars per million output tokens (``None``: unknown).
        cached_input_price: dollars per million cached input tokens; ``None`` with a known
            input price bills cached tokens at the input price.
        context_window: most tokens of input and output together, when known.
        max_output: most output tokens of one response, when known.
    """

    input_price: Decimal | None = None
    output_price: Decimal | None = None
    cached_input_price: Decimal | None = None
    context_window: int | None = None
    max_output: int | None = None

    @property
    def priced(self) -> bool:
        """Whether a call's cost can be computed (input and output prices known)."""
        return self.input_price is not None and self.output_price is not None


def _price(value: object, field: str, model: str) -> Decimal | None:
    if value is None:
        return None
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        raise UserError(
            f"Model catalog {model!r}: {field} must be a number, got {value!r}"
        ) from None
    if not price.is_finite() or price < 0:
        raise UserError(f"Model catalog {model!r}: {field} must be 0 or more, got {value!r}")
    return price


def split_model(model: str) -> tuple[str, str]:
    """``"openai:gpt-4o"`` -> ``("openai", "gpt-4o")``; a bare name has provider ``""``."""
    provider, sep, name = model.partition(":")
    return (provider, name) if sep else ("", model)


class ModelCatalog:
    """Model information by ``provider:model`` label.

    Lookup tries the full label, then the bare model name (an entry for any provider), then
    ``provider:*`` (an entry for every model of a provider).

    Args:
        entries: ``{"openai:gpt-4o": ModelInfo(...)}`` or plain mappings with the same fields
            (``{"input_price": 2.5, "output_price": 10}``).
    """

    def __init__(
        self, entries: Mapping[str, ModelInfo | Mapping[str, object]] | None = None
    ) -> None:
        self._entries: dict[str, ModelInfo] = {}
        for model, info in dict(entries or {}).items():
            self._entries[model] = _info(model, info)

    def get(self, model: str) -> ModelInfo:
        """The model's information; an unknown model has every field ``None`` (unpriced)."""
        provider, name = split_model(model)
        for key in (model, name, f"{provider}:*"):
            info = self._entries.get(key)
            if info is not None:
                return info
        return ModelInfo()

    def with_entries(self, entries: Mapping[str, ModelInfo | Mapping[str, object]]) -> ModelCatalog:
        """A copy with ``entries`` added or replacing the ones of the same name."""
        merged = ModelCatalog()
        merged._entries = {**self._entries, **ModelCatalog(entries)._entries}
        return merged

    def models(self) -> list[str]:
        """The labels the catalog has entries for, sorted."""
        return sorted(self._entries)

    def cost(self, model: str, usage: Usage) -> Decimal | None:
        """Cost of a call of ``model`` with ``usage``; ``None`` when its price is unknown."""
        return call_cost(self.get(model), usage)


def _info(model: str, info: ModelInfo | Mapping[str, object]) -> ModelInfo:
    if isinstance(info, ModelInfo):
        values: Mapping[str, object] = {
            "input_price": info.input_price,
            "output_price": info.output_price,
            "cached_input_price": info.cached_input_price,
            "context_window": info.context_window,
            "max_output": info.max_output,
        }
    else:
        unknown = set(info) - set(ModelInfo.__dataclass_fields__)
        if unknown:
            raise UserError(
                f"Model catalog {model!r}: unknown fields {sorted(unknown)}; use input_price, "
                "output_price, cached_input_price, context_window, max_output"
            )
        values = info
    limits = {k: values.get(k) for k in ("context_window", "max_output")}
    for key, value in limits.items():
        if value is not None and (not isinstance(value, int) or value < 1):
            raise UserError(f"Model catalog {model!r}: {key} must be a positive integer")
    return replace(
        ModelInfo(),
        input_price=_price(values.get("input_price"), "input_price", model),
        output_price=_price(values.get("output_price"), "output_price", model),
        cached_input_price=_price(values.get("cached_input_price"), "cached_input_price", model),
        context_window=limits["context_window"],  # type: ignore[arg-type]
        max_output=limits["max_output"],  # type: ignore[arg-type]
    )


def call_cost(info: ModelInfo, usage: Usage) -> Decimal | None:
    """Dollars for one call; ``None`` when the model's input or output price is unknown.

    ``cached_tokens`` are billed at ``cached_input_price`` (or the input price when that is not
    set), the remaining input tokens at ``input_price``. Every handler reports ``input_tokens``
    as the whole prompt, cached part included, so one rule fits all providers.
    """
    if info.input_price is None or info.output_price is None:
        return None
    cached = usage.cached_tokens
    fresh = usage.input_tokens - cached
    cached_price = (
        info.cached_input_price if info.cached_input_price is not None else info.input_price
    )
    total = (
        max(fresh, 0) * info.input_price
        + cached * cached_price
        + usage.output_tokens * info.output_price
    )
    return total / _MILLION


def _d(value: str) -> Decimal:
    return Decimal(value)


DEFAULT_CATALOG = ModelCatalog(
    {
        # List prices (USD per million tokens) as published by the vendors; override with yours.
        "openai:gpt-4o": ModelInfo(_d("2.50"), _d("10.00"), _d("1.25"), 128_000, 16_384),
        "openai:gpt-4o-mini": ModelInfo(_d("0.15"), _d("0.60"), _d("0.075"), 128_000, 16_384),
        "openai:gpt-4.1": ModelInfo(_d("2.00"), _d("8.00"), _d("0.50"), 1_047_576, 32_768),
        "openai:gpt-4.1-mini": ModelInfo(_d("0.40"), _d("1.60"), _d("0.10"), 1_047_576, 32_768),
        "openai:o3-mini": ModelInfo(_d("1.10"), _d("4.40"), _d("0.55"), 200_000, 100_000),
        "anthropic:claude-sonnet-4-5": ModelInfo(
            _d("3.00"), _d("15.00"), _d("0.30"), 200_000, 64_000
        ),
        "anthropic:claude-haiku-4-5": ModelInfo(
            _d("1.00"), _d("5.00"), _d("0.10"), 200_000, 64_000
        ),
        "anthropic:claude-opus-4-1": ModelInfo(
            _d("15.00"), _d("75.00"), _d("1.50"), 200_000, 32_000
        ),
        # The offline models cost nothing, by definition.
        "test:*": ModelInfo(_d("0"), _d("0"), _d("0")),
        "function:*": ModelInfo(_d("0"), _d("0"), _d("0")),
    }
)
"""The built-in catalog; local models (Ollama, HuggingFace endpoints) are unpriced until set."""
