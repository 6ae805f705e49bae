"""Usage and cost of a run equal what each provider's fake server reports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiops_core import Agent
from aiops_core.catalog import ModelCatalog, split_model
from aiops_core.providers import get_chat_model
from aiops_core.usage import MemoryRecorder
from tests.core.providers.conftest import PROVIDERS, handler_name, model_spec
from tests.servers.llm import LLMServer, Reply

pytestmark = pytest.mark.anyio

PRICES = {"input_price": "2", "output_price": "8", "cached_input_price": "1"}
NO_CACHE_REPORT = {"ollama"}  # Ollama's API has no cached-token count


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_usage_and_cost_match_the_server(
    provider: str, streaming: bool, server: LLMServer
) -> None:
    spec, options = model_spec(provider, server.url)
    model = get_chat_model(spec, **options)
    server.script(Reply(text="ok", input_tokens=1000, output_tokens=200, cached_tokens=300))
    recorder = MemoryRecorder()
    agent = Agent(model, recorder=recorder, catalog=ModelCatalog({model.name: PRICES}))
    if streaming:
        [event async for event in agent.stream("hi", user="alice", tenant="noc")]
    else:
        await agent.run("hi", user="alice", tenant="noc")
    await model.aclose()

    (call,) = recorder.model_calls
    name = handler_name(provider)
    cached = 0 if name in NO_CACHE_REPORT else 300
    # Every handler reports the whole prompt as input_tokens: Anthropic's wire counts cache reads
    # apart from its input_tokens (the fake server's 1000), and the handler adds them in.
    prompt = 1000 + cached if name == "anthropic" else 1000
    assert (call.usage.input_tokens, call.usage.output_tokens, call.usage.cached_tokens) == (
        prompt,
        200,
        cached,
    )
    fresh = prompt - cached
    assert call.cost == (fresh * 2 + cached * 1 + 200 * 8) / Decimal(1_000_000)
    assert (call.model, call.provider) == (model.name, split_model(model.name)[0])
    assert (call.user, call.tenant, call.outcome, call.streaming) == (
        "alice",
        "noc",
        "ok",
        streaming,
    )
    assert call.latency > 0
    assert (call.time_to_first_token is not None) == streaming
    (run,) = recorder.runs
    assert (run.cost, run.usage, run.run_id) == (call.cost, call.usage, call.run_id)


async def test_unknown_price_is_unknown_not_free(server: LLMServer) -> None:
    spec, options = model_spec("openai", server.url)
    model = get_chat_model(spec, **options)
    server.script(Reply(text="ok", input_tokens=10, output_tokens=5))
    recorder = MemoryRecorder()
    await Agent(model, recorder=recorder, catalog=ModelCatalog()).run("hi")
    await model.aclose()
    assert recorder.model_calls[0].cost is None
    assert recorder.runs[0].cost is None
    assert recorder.model_calls[0].usage.input_tokens == 10
