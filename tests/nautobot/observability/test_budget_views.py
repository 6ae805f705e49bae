"""Budget UI: CRUD on Nautobot's view test cases, spent and remaining, validation messages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from nautobot.apps.testing import TestCase, ViewTestCases

from aiops_nautobot import usage_forms
from aiops_nautobot.models import Budget, UsageRecord

from .. import sample_data


def spend(user, cost: str | None, model: str = "test:sample-model-0", days_ago: int = 0) -> None:
    UsageRecord.objects.create(
        run_id="run",
        user=user,
        model=model,
        provider="test",
        started_at=timezone.now() - timedelta(days=days_ago),
        latency=0.1,
        cost=None if cost is None else Decimal(cost),
    )


class BudgetViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = Budget

    @classmethod
    def setUpTestData(cls):
        UsageRecord.objects.all().delete()  # rows left in a reused database (rolled back)
        llms = sample_data.llm_models(2)
        owner = get_user_model().objects.create_user(username="budget-owner")
        Budget.objects.create(name="all-calls", limit=Decimal("100"))
        Budget.objects.create(name="owner-daily", user=owner, limit=Decimal("1.5"))
        Budget.objects.create(
            name="model-0",
            llm_model=llms[0],
            limit=Decimal("10"),
            action="fallback",
            fallback_model=llms[1],
        )
        cls.form_data = {
            "name": "form-budget",
            "user": owner.pk,
            "period": "day",
            "limit": Decimal("2.5000"),
            "action": "refuse",
            "enabled": True,
        }
        cls.update_data = {
            "name": "form-budget-edited",
            "llm_model": llms[1].pk,
            "period": "month",
            "limit": Decimal("20"),
            "action": "fallback",
            "fallback_model": llms[0].pk,
            "enabled": False,
        }
        cls.bulk_edit_data = {"period": "month", "limit": Decimal("7")}

    def list_page(self) -> str:
        return self.client.get(self._get_url("list"), HTTP_HX_REQUEST="true").content.decode()

    def test_spent_and_remaining_of_the_current_period(self):
        self.add_permissions("aiops_nautobot.view_budget")
        owner = get_user_model().objects.get(username="budget-owner")
        spend(owner, "0.40")
        spend(owner, "0.35", model="test:sample-model-1")
        spend(owner, None)  # unknown cost: not counted, not free either
        spend(owner, "5.00", days_ago=40)  # an earlier period
        spend(self.user, "3.00", model="other:model")
        page = self.client.get(Budget.objects.get(name="owner-daily").get_absolute_url())
        body = page.content.decode()
        self.assertHttpStatus(page, 200)
        self.assertIn("$0.7500", body)  # spent today by the owner
        self.assertIn("$0.7500", body.split("Remaining", 1)[1])  # 1.50 - 0.75
        listing = self.list_page()
        self.assertIn("$3.7500", listing)  # all calls today, excluding the unpriced one
        self.assertIn("$96.2500", listing)
        self.assertIn("$0.4000", listing)  # model-0's calls

    def test_remaining_never_below_zero(self):
        self.add_permissions("aiops_nautobot.view_budget")
        owner = get_user_model().objects.get(username="budget-owner")
        spend(owner, "4.00")
        body = self.client.get(Budget.objects.get(name="owner-daily").get_absolute_url())
        self.assertIn("$0.0000", body.content.decode().split("Remaining", 1)[1])


class BudgetFormTest(TestCase):
    """Validation errors say what to change."""

    def setUp(self):
        super().setUp()
        self.llms = sample_data.llm_models(2)
        self.owner = get_user_model().objects.create_user(username="form-owner")

    def errors(self, **data) -> dict[str, list[str]]:
        base = {"name": "b", "period": "day", "limit": "1", "action": "refuse"}
        form = usage_forms.BudgetForm(data={**base, **data})
        self.assertFalse(form.is_valid())
        return form.errors

    def test_two_subjects(self):
        errors = self.errors(user=self.owner.pk, llm_model=self.llms[0].pk)
        self.assertIn("Set at most one of user, tenant and LLM model", str(errors))

    def test_fallback_without_model(self):
        errors = self.errors(action="fallback")
        self.assertIn("Choose the model to fall back to", errors["fallback_model"][0])

    def test_fallback_model_with_refuse(self):
        errors = self.errors(fallback_model=self.llms[0].pk)
        self.assertIn("Clear the fallback model", errors["fallback_model"][0])

    def test_fallback_to_the_same_model(self):
        m = self.llms[0].pk
        errors = self.errors(action="fallback", llm_model=m, fallback_model=m)
        self.assertIn("Fall back to a different model", errors["fallback_model"][0])

    def test_negative_limit(self):
        self.assertIn("limit", self.errors(limit="-1"))

    def test_valid(self):
        data = {"name": "ok", "period": "month", "limit": "3", "action": "refuse"}
        self.assertTrue(usage_forms.BudgetForm(data=data).is_valid())
