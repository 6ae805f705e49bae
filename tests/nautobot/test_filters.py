"""Filter sets, on Nautobot's filter test base class."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from nautobot.apps.testing import FilterTestCases
from nautobot.extras.models import Secret

from aiops_nautobot import filters, models

from . import sample_data
from .sample_data import AuditMiddleware, GuardMiddleware, TraceMiddleware


class LLMProviderFilterTest(FilterTestCases.FilterTestCase):
    queryset = models.LLMProvider.objects.all()
    filterset = filters.LLMProviderFilterSet
    generic_filter_tests = [("name",), ("description",)]

    @classmethod
    def setUpTestData(cls):
        for i in range(3):
            models.LLMProvider.objects.create(name=f"f-{i}", description=f"d-{i}", enabled=i != 1)


class SystemPromptFilterTest(FilterTestCases.FilterTestCase):
    queryset = models.SystemPrompt.objects.all()
    filterset = filters.SystemPromptFilterSet
    generic_filter_tests = [("name",), ("status",)]

    @classmethod
    def setUpTestData(cls):
        for i, status in enumerate(["active", "draft", "retired"]):
            models.SystemPrompt.objects.create(name=f"p-{i}", text=f"text {i}", status=status)


class LLMModelFilterTest(FilterTestCases.FilterTestCase):
    queryset = models.LLMModel.objects.all()
    filterset = filters.LLMModelFilterSet
    generic_filter_tests = [
        ("name",),
        ("description",),
        ("environment",),
        ("provider", "provider__id"),
        ("provider", "provider__name"),
        ("system_prompt", "system_prompt__id"),
        ("system_prompt", "system_prompt__name"),
        ("api_key_secret", "api_key_secret__name"),
    ]

    @classmethod
    def setUpTestData(cls):
        rows = sample_data.llm_models(3)
        providers = [sample_data.provider(name) for name in ("test", "function", "custom-x")]
        for i, row in enumerate(rows):
            row.system_prompt = models.SystemPrompt.objects.create(name=f"sp-{i}", text="t")
            row.api_key_secret = Secret.objects.create(
                name=f"key-{i}", provider="environment-variable", parameters={"variable": "K"}
            )
            row.provider = providers[i]
            row.config = {}  # the custom provider's schema is unknown; keep config neutral
            row.save()


class MiddlewareTypeFilterTest(FilterTestCases.FilterTestCase):
    queryset = models.MiddlewareType.objects.all()
    filterset = filters.MiddlewareTypeFilterSet
    generic_filter_tests = [("name",), ("description",)]

    @classmethod
    def setUpTestData(cls):
        for i in range(3):
            models.MiddlewareType.objects.create(name=f"t-{i}", description=f"d-{i}")


class LLMMiddlewareFilterTest(FilterTestCases.FilterTestCase):
    queryset = models.LLMMiddleware.objects.all()
    filterset = filters.LLMMiddlewareFilterSet
    generic_filter_tests = [
        ("priority",),
        ("llm_model", "llm_model__id"),
        ("middleware_type", "middleware_type__id"),
        ("middleware_type", "middleware_type__name"),
    ]

    @classmethod
    def setUpTestData(cls):
        llms = sample_data.llm_models(3)
        types = [
            sample_data.middleware_type(cls)
            for cls in (GuardMiddleware, TraceMiddleware, AuditMiddleware)
        ]
        for i, llm in enumerate(llms):
            models.LLMMiddleware.objects.create(
                llm_model=llm, middleware_type=types[i], priority=i + 1
            )
        models.LLMMiddleware.objects.create(
            llm_model=llms[0], middleware_type=types[1], priority=60
        )


class MCPServerFilterTest(FilterTestCases.FilterTestCase):
    queryset = models.MCPServer.objects.all()
    filterset = filters.MCPServerFilterSet
    generic_filter_tests = [
        ("name",),
        ("status",),
        ("url",),
        ("timeout_seconds",),
        ("headers_secret", "headers_secret__name"),
    ]

    @classmethod
    def setUpTestData(cls):
        for i, state in enumerate(["healthy", "unhealthy", "vulnerable"]):
            models.MCPServer.objects.create(
                name=f"m-{i}",
                status=state,
                url=f"http://127.0.0.1:90{i}0",
                timeout_seconds=10 + i,
                headers_secret=Secret.objects.create(
                    name=f"h-{i}", provider="environment-variable", parameters={"variable": "H"}
                ),
            )


class ConversationFilterTest(FilterTestCases.FilterTestCase):
    queryset = models.Conversation.objects.all()
    filterset = filters.ConversationFilterSet
    generic_filter_tests = [
        ("thread_id",),
        ("title",),
        ("owner", "owner__id"),
        ("owner", "owner__username"),
        ("llm_model", "llm_model__id"),
    ]

    @classmethod
    def setUpTestData(cls):
        llms = sample_data.llm_models(3)
        for i, llm in enumerate(llms):
            owner = get_user_model().objects.create_user(username=f"owner-{i}")
            models.Conversation.objects.create(
                thread_id=f"th-{i}", title=f"title {i}", owner=owner, llm_model=llm
            )
