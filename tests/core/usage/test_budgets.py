"""Budgets: refused or sent to the fallback model exactly at the limit, also under concurrent runs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import anyio
import pytest

from aiops_core import Agent
from aiops_core.catalog import ModelCatalog
from aiops_core.errors import BudgetExceeded, UserError
from aiops_core.messages import AssistantMessage, Usage
from aiops_core.providers import FunctionModel, ModelRequest, ModelResponse
from aiops_core.usage import Budget, MemoryRecorder
from aiops_core.usage.budgets import period_bounds

pytestmark = pytest.mark.anyio

DOLLAR_A_TOKEN = {"input_price": "1000000", "output_price": "0"}
CATALOG = ModelCatalog(
    {"function:pricey": DOLLAR_A_TOKEN, "test:*": {"input_price": 0, "output_price": 0}}
)


def pricey(tokens: int = 1, delay: float = 0.02) -> FunctionModel:
    """A model whose every call costs ``tokens`` dollars and takes ``delay`` seconds."""

    async def reply(request: ModelRequest) -> ModelResponse:
        await anyio.sleep(delay)
        return ModelResponse(AssistantMessage(content="ok"), Usage(input_tokens=tokens, requests=1))

    return FunctionModel(reply, model_name="pricey")


async def run_many(
    agent: Agent, count: int, user: str = "alice"
) -> tuple[int, list[BudgetExceeded]]:
    done, refused = 0, []

    async def one() -> None:
        nonlocal done
        try:
            await agent.run("hi", user=user)
            done += 1
        except BudgetExceeded as err:
            refused.append(err)

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(one)
    return done, refused


def spent(recorder: MemoryRecorder) -> Decimal:
    return sum((r.cost or Decimal(0) for r in recorder.model_calls), Decimal(0))


async def test_concurrent_runs_stop_exactly_at_the_limit() -> None:
    recorder = MemoryRecorder()
    agent = Agent(pricey(), recorder=recorder, budgets=[Budget(Decimal(5))], catalog=CATALOG)
    done, refused = await run_many(agent, 20)
    assert (done, len(refused)) == (5, 15)
    assert spent(recorder) == 5
    err = refused[0]
    assert "user 'alice' (day) spent $5.0000 of $5.00" in str(err)
    assert (err.scope, err.subject, err.limit) == ("user", "alice", Decimal(5))
    assert err.resets_at == period_bounds("day", datetime.now(UTC))[1].isoformat()


async def test_overspend_is_at_most_one_call_per_worker() -> None:
    recorder = MemoryRecorder()
    budget = Budget(Decimal("5.5"))
    agent = Agent(pricey(2), recorder=recorder, budgets=[budget], catalog=CATALOG)
    done, refused = await run_many(agent, 12)
    # 2 + 2 + 2: the third call starts at $4 spent (< 5.5) and alone; nothing after it.
    assert (done, len(refused)) == (3, 9)
    assert budget.limit < spent(recorder) <= budget.limit + 2


async def test_budgets_are_per_user_unless_keyed() -> None:
    recorder = MemoryRecorder()
    budgets = [Budget(Decimal(2)), Budget(Decimal(3), scope="global")]
    agent = Agent(pricey(), recorder=recorder, budgets=budgets, catalog=CATALOG)
    assert (await run_many(agent, 4, "alice"))[0] == 2
    done, refused = await run_many(agent, 4, "bob")
    assert done == 1  # bob's own budget has room; the global one had $1 left
    assert refused[0].scope == "global" and refused[0].subject is None


async def test_fallback_to_a_cheaper_model_at_the_limit() -> None:
    recorder = MemoryRecorder()
    budget = Budget(
        Decimal(2),
        scope="model",
        key="function:pricey",
        action="fallback",
        fallback_model="test:cheap",
    )
    agent = Agent(pricey(), recorder=recorder, budgets=[budget], catalog=CATALOG)
    for _ in range(4):
        await agent.run("hi", user="alice")
    models = [(r.model, r.fallback_from) for r in recorder.model_calls]
    assert models == [("function:pricey", None)] * 2 + [("test:cheap", "function:pricey")] * 2
    assert spent(recorder) == 2


async def test_unpriced_model_under_a_budget_is_refused_with_a_reason() -> None:
    agent = Agent(
        pricey(), recorder=MemoryRecorder(), budgets=[Budget(Decimal(9))], catalog=ModelCatalog()
    )
    with pytest.raises(BudgetExceeded, match="'function:pricey' has no price in the model catalog"):
        await agent.run("hi", user="alice")


async def test_a_run_without_user_is_not_under_a_user_budget() -> None:
    recorder = MemoryRecorder()
    agent = Agent(pricey(), recorder=recorder, budgets=[Budget(Decimal(1))], catalog=CATALOG)
    for _ in range(3):
        await agent.run("hi")
    assert spent(recorder) == 3


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"limit": -1}, "0 or more"),
        ({"limit": "lots"}, "number of dollars"),
        ({"limit": 1, "period": "week"}, "'day' or 'month'"),
        ({"limit": 1, "scope": "team"}, "user, tenant, model or global"),
        ({"limit": 1, "action": "fallback"}, "needs a fallback_model"),
    ],
)
def test_invalid_budget_says_what_to_change(kwargs: dict, problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        Budget(**kwargs)


def test_budgets_need_a_ledger() -> None:
    with pytest.raises(UserError, match="Budgets need a recorder that keeps spending"):
        Agent("test", budgets=[Budget(Decimal(1))])


def test_month_bounds() -> None:
    start, end = period_bounds("month", datetime(2026, 2, 14, 9, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
