"""The chain: ordering, short-circuit, repeated calls, fresh instances, failures, streaming."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
import pytest

from aiops_core import Agent
from aiops_core.agent import TextDelta as AgentTextDelta
from aiops_core.context import RunContext
from aiops_core.errors import MiddlewareError, UnknownNameError, UserError
from aiops_core.messages import AssistantMessage
from aiops_core.middleware import (
    Middleware,
    MiddlewareConfig,
    MiddlewareSpec,
    build_chain,
    config_schema,
    get_middleware_type,
    list_middleware_types,
    middleware_registry,
    middleware_type_names,
    register_middleware,
    resolve_specs,
)
from aiops_core.middleware.registry import ENTRY_POINT_GROUP, MiddlewareLoadError
from aiops_core.providers import FunctionModel, ModelRequest, ModelResponse, ResponseDone, TextDelta

from .conftest import Script

pytestmark = pytest.mark.anyio

LOG: list[str] = []


@pytest.fixture(autouse=True)
def _clear_log() -> None:
    LOG.clear()


def tracer(label: str) -> type[Middleware]:
    class Tracer(Middleware):
        name = label

        async def wrap_model_call(self, request: ModelRequest, call_next: Any) -> ModelResponse:
            LOG.append(f"pre:{label}")
            response = await call_next(request)
            LOG.append(f"post:{label}")
            return response

    return Tracer


# -- specs and configs ----------------------------------------------------------------------------


@pytest.mark.parametrize("priority", [0, 101, -5, 1000])
def test_out_of_range_priority_names_the_field(priority: int) -> None:
    with pytest.raises(UserError, match="priority must be between 1 and 100"):
        MiddlewareSpec("retry", priority=priority)


def test_non_integer_priority_and_flags_are_rejected() -> None:
    with pytest.raises(UserError, match="priority must be an integer"):
        MiddlewareSpec("retry", priority="10")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="critical must be true or false"):
        MiddlewareSpec("retry", critical="yes")  # type: ignore[arg-type]


def test_invalid_config_names_the_field() -> None:
    with pytest.raises(
        UserError, match=r"'retry': invalid config max_attempts: .*greater than or equal to 1"
    ):
        resolve_specs([MiddlewareSpec("retry", config={"max_attempts": 0})])
    with pytest.raises(UserError, match=r"invalid config max_attemps: unknown key"):
        resolve_specs([MiddlewareSpec("retry", config={"max_attemps": 3})])


def test_unknown_type_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'retry'"):
        Agent(middleware=[MiddlewareSpec("retyr")])


def test_instances_are_refused_because_they_would_be_shared() -> None:
    with pytest.raises(UserError, match="built fresh for every run"):
        resolve_specs([get_middleware_type("retry")()])  # type: ignore[list-item]


def test_inactive_specs_are_ignored() -> None:
    resolved = resolve_specs([MiddlewareSpec("retry", active=False), MiddlewareSpec("logging")])
    assert [r.name for r in resolved] == ["logging"]


def test_every_builtin_has_a_schema_with_working_defaults() -> None:
    types = list_middleware_types()
    assert {
        "logging",
        "cache",
        "retry",
        "validation",
        "prompt_injection",
        "pii_redaction",
        "summarization",
        "model_call_limit",
        "tool_call_limit",
        "model_fallback",
        "timeout",
        "rate_limit",
        "tool_approval",
    } <= set(types)
    for name, cls in types.items():
        assert cls.name == name
        schema = config_schema(name)
        assert schema["type"] == "object" and schema["properties"], name
        # Defaults build a working instance.
        build_chain(resolve_specs([MiddlewareSpec(name, critical=True)]), RunContext())


def test_entry_point_group_registers_third_party_types(install_distribution: Any) -> None:
    install_distribution(
        "aiops_mw_demo",
        f"from {__name__} import ThirdParty",
        {ENTRY_POINT_GROUP: {"third_party": "aiops_mw_demo:ThirdParty"}},
    )
    with middleware_registry.override(reread_entry_points=True):
        assert get_middleware_type("third_party") is ThirdParty
        assert "third_party" in list_middleware_types()
    assert "third_party" not in middleware_type_names()


class ThirdParty(Middleware):
    name = "third_party"


def test_register_middleware_in_code() -> None:
    with middleware_registry.override():
        register_middleware("mine", ThirdParty)
        assert get_middleware_type("mine") is ThirdParty
        register_middleware("broken", "no_such_module:Nope")
        with pytest.raises(MiddlewareLoadError, match="cannot be loaded") as info:
            get_middleware_type("broken")
        assert isinstance(info.value, ImportError)  # callers that skip unloadable entries can
        assert "broken" not in middleware_registry.available()
    assert "mine" not in middleware_type_names()


# -- ordering ------------------------------------------------------------------------------------


async def test_priority_one_is_outermost_and_ties_order_by_name() -> None:
    specs = [
        MiddlewareSpec(tracer("zeta"), priority=50),
        MiddlewareSpec(tracer("alpha"), priority=50),
        MiddlewareSpec(tracer("inner"), priority=100),
        MiddlewareSpec(tracer("outer"), priority=1),
    ]
    agent = Agent(Script("hi").model, middleware=specs)
    await agent.run("hello")
    assert LOG == [
        "pre:outer",
        "pre:alpha",
        "pre:zeta",
        "pre:inner",
        "post:inner",
        "post:zeta",
        "post:alpha",
        "post:outer",
    ]


async def test_before_and_after_hooks_run_in_onion_order() -> None:
    class Hooks(Middleware):
        name = "hooks"
        label: ClassVar[str] = ""

        async def before_model(self, request: ModelRequest) -> ModelRequest | None:
            LOG.append(f"before:{self.label}")
            return None

        async def after_model(self, request: ModelRequest, response: ModelResponse) -> None:
            LOG.append(f"after:{self.label}")

        async def before_run(self, context: RunContext) -> None:
            LOG.append(f"run:{self.label}")

    class A(Hooks):
        name, label = "a", "a"

    class B(Hooks):
        name, label = "b", "b"

    agent = Agent(
        Script("hi").model,
        middleware=[MiddlewareSpec(B, priority=2), MiddlewareSpec(A, priority=9)],
    )
    await agent.run("x")
    assert LOG == ["run:b", "run:a", "before:b", "before:a", "after:a", "after:b"]


async def test_short_circuit_skips_the_model() -> None:
    class Answer(Middleware):
        name = "answer"

        async def wrap_model_call(self, request: ModelRequest, call_next: Any) -> ModelResponse:
            return ModelResponse(AssistantMessage(content="from middleware"))

    script = Script("from model")
    result = await Agent(script.model, middleware=[Answer]).run("x")
    assert result.output == "from middleware"
    assert script.calls == 0


async def test_call_next_may_run_several_times() -> None:
    class Twice(Middleware):
        name = "twice"

        async def wrap_model_call(self, request: ModelRequest, call_next: Any) -> ModelResponse:
            first = await call_next(request)
            second = await call_next(request)
            return ModelResponse(
                AssistantMessage(content=first.message.content + "+" + second.message.content)
            )

    script = Script("one", "two")
    result = await Agent(script.model, middleware=[Twice]).run("x")
    assert result.output == "one+two"
    assert script.calls == 2


# -- fresh instances -----------------------------------------------------------------------------


class Counting(Middleware):
    """Keeps per-instance state; would leak between conversations if instances were shared."""

    name = "counting"
    instances: ClassVar[list[Counting]] = []

    def __init__(self, config: Any = None, context: Any = None) -> None:
        super().__init__(config, context)
        self.seen: list[str] = []
        Counting.instances.append(self)

    async def wrap_model_call(self, request: ModelRequest, call_next: Any) -> ModelResponse:
        user = request.context.user if request.context else None
        self.seen.append(user or "")
        await anyio.lowlevel.checkpoint()  # let the other conversation interleave
        response = await call_next(request)
        return ModelResponse(
            AssistantMessage(content=f"{response.message.content} seen={self.seen}")
        )


async def test_two_concurrent_conversations_get_their_own_instances() -> None:
    Counting.instances.clear()
    agent = Agent(Script(lambda r: "ok").model, middleware=[Counting])
    results: dict[str, str] = {}

    async def converse(user: str) -> None:
        for _ in range(3):
            result = await agent.run("hi", thread_id=f"t-{user}", user=user)
            results[user] = result.output

    async with anyio.create_task_group() as tg:
        tg.start_soon(converse, "alice")
        tg.start_soon(converse, "bob")
    assert len(Counting.instances) == 6
    assert results == {"alice": "ok seen=['alice']", "bob": "ok seen=['bob']"}


def test_two_os_threads_get_their_own_instances() -> None:
    Counting.instances.clear()
    agent = Agent(Script(lambda r: "ok").model, middleware=[Counting])
    outputs: dict[str, list[str]] = {"alice": [], "bob": []}
    barrier = threading.Barrier(2)

    def converse(user: str) -> None:
        barrier.wait()
        for _ in range(5):
            outputs[user].append(agent.run_sync("hi", user=user).output)

    threads = [threading.Thread(target=converse, args=(u,)) for u in outputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(i) for i in Counting.instances}) == 10
    assert outputs == {u: [f"ok seen=['{u}']"] * 5 for u in outputs}


# -- build failures ------------------------------------------------------------------------------


class Broken(Middleware):
    name = "broken"

    def __init__(self, config: Any = None, context: Any = None) -> None:
        raise RuntimeError("cannot reach the policy server")


class BrokenStart(Middleware):
    name = "broken_start"

    async def before_run(self, context: RunContext) -> None:
        raise ConnectionError("policy server refused")

    async def wrap_model_call(self, request: ModelRequest, call_next: Any) -> ModelResponse:
        raise AssertionError("a dropped middleware must not run")


async def test_critical_build_failure_aborts_the_run_naming_it() -> None:
    script = Script("hi")
    agent = Agent(script.model, middleware=[MiddlewareSpec(Broken, critical=True)])
    with pytest.raises(
        MiddlewareError, match="Critical middleware 'broken' failed to build"
    ) as info:
        await agent.run("x")
    assert info.value.middleware == "broken"
    assert script.calls == 0


async def test_non_critical_build_failure_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = Agent(
        Script("hi").model, middleware=[MiddlewareSpec(Broken), MiddlewareSpec(tracer("ok"))]
    )
    result = await agent.run("x")
    assert result.output == "hi"
    assert LOG == ["pre:ok", "post:ok"]
    assert any("'broken' skipped: failed to build" in w for w in result.warnings)
    assert "'broken' skipped" in caplog.text


async def test_failure_to_start_is_critical_or_skipped() -> None:
    agent = Agent(Script("hi").model, middleware=[MiddlewareSpec(BrokenStart)])
    result = await agent.run("x")
    assert result.output == "hi"
    assert any("'broken_start' skipped: failed to start" in w for w in result.warnings)
    agent = Agent(Script("hi").model, middleware=[MiddlewareSpec(BrokenStart, critical=True)])
    with pytest.raises(MiddlewareError, match="'broken_start' failed to start"):
        await agent.run("x")


# -- describe ------------------------------------------------------------------------------------


def test_describe_lists_the_order_and_masks_secrets() -> None:
    class Secretive(Middleware):
        name = "secretive"

        class Config(MiddlewareConfig):
            api_key: str = ""
            url: str = ""
            key_prefix: str = "p:"

    specs = [
        MiddlewareSpec(
            Secretive,
            priority=5,
            config={"api_key": "sk-live-123", "url": "redis://:hunter2@cache:6379/0"},
        ),
        MiddlewareSpec("retry", priority=30, critical=True),
    ]
    chain = build_chain(resolve_specs(specs), RunContext())
    rows = chain.describe()
    assert [(r["order"], r["priority"], r["type"]) for r in rows] == [
        (1, 5, "secretive"),
        (2, 30, "retry"),
    ]
    assert rows[0]["config"]["api_key"] == "***"
    assert rows[0]["config"]["url"] == "redis://***@cache:6379/0"
    assert rows[0]["config"]["key_prefix"] == "p:"
    assert "hunter2" not in repr(chain.middleware[0]) and "sk-live" not in repr(chain.middleware[0])
    text = chain.describe_text()
    assert "sk-live-123" not in text and "hunter2" not in text
    assert "retry" in text and "yes" in text


# -- streaming -----------------------------------------------------------------------------------


async def _stream_text(agent: Agent, prompt: str = "x") -> str:
    return "".join([e.text async for e in agent.stream(prompt) if isinstance(e, AgentTextDelta)])


async def test_call_only_middleware_takes_part_in_streaming_runs() -> None:
    class Upper(Middleware):
        name = "upper"

        async def wrap_model_call(self, request: ModelRequest, call_next: Any) -> ModelResponse:
            response = await call_next(request)
            return ModelResponse(AssistantMessage(content=response.message.content.upper()))

    agent = Agent(Script("quiet answer").model, middleware=[Upper])
    assert await _stream_text(agent) == "QUIET ANSWER"


async def test_unchanged_response_replays_the_inner_stream() -> None:
    class Passive(Middleware):
        name = "passive"

        async def wrap_model_call(self, request: ModelRequest, call_next: Any) -> ModelResponse:
            return await call_next(request)

    async def chunks(request: ModelRequest) -> AsyncIterator[str]:
        for part in ("a", "b", "c"):
            yield part

    agent = Agent(FunctionModel(stream_function=chunks), middleware=[Passive])
    deltas = [e.text async for e in agent.stream("x") if isinstance(e, AgentTextDelta)]
    assert deltas == ["a", "b", "c"]


async def test_stream_only_middleware_takes_part_in_complete_calls() -> None:
    class Shout(Middleware):
        name = "shout"

        async def wrap_model_stream(
            self, request: ModelRequest, call_next: Any
        ) -> AsyncIterator[Any]:
            async for event in call_next(request):
                if isinstance(event, TextDelta):
                    yield TextDelta(event.text + "!")
                elif isinstance(event, ResponseDone):
                    content = event.response.message.content + "!"
                    yield ResponseDone(ModelResponse(AssistantMessage(content=content)))
                else:
                    yield event

    result = await Agent(Script("hey").model, middleware=[Shout]).run("x")
    assert result.output == "hey!"
    assert await _stream_text(Agent(Script("hey").model, middleware=[Shout])) == "hey!"


def test_the_type_parameter_is_the_config_schema_and_setup_prepares_each_instance() -> None:
    class LimitConfig(MiddlewareConfig):
        limit: int = 3

    class OtherConfig(LimitConfig):
        other: bool = True

    class Limit(Middleware[LimitConfig]):
        def setup(self) -> None:
            self.left = self.config.limit

    class Explicit(Limit):
        Config = OtherConfig

    class Inherited(Explicit):
        pass

    class Plain(Middleware):
        pass

    assert Limit.Config is LimitConfig and Limit().left == 3
    assert Limit(LimitConfig(limit=5)).left == 5
    assert Explicit.Config is Inherited.Config is OtherConfig
    assert Plain.Config is MiddlewareConfig
    assert resolve_specs([MiddlewareSpec(Limit, config={"limit": 7})])[0].config == LimitConfig(
        limit=7
    )
