"""The chat page at ``/plugins/ai-ops/chat/``: Nautobot's layout around a client of the chat API.

The page itself holds no conversation: its script (``static/aiops_nautobot/chat/chat.js``) talks
to ``/api/plugins/ai-ops/chat/`` like any API client, with the user's session. The view only
renders the layout, hands the script its settings as a JSON data block, and sets a strict
Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from typing import Any

from django.shortcuts import render
from django.urls import reverse
from nautobot.apps.views import GenericView

from .permissions import user_can_chat
from .settings import get_settings
from .tenancy import viewable_tenants

__all__ = ["ChatPageView", "content_security_policy", "page_config"]

SESSION_GRACE_MINUTES = 5
"""Added to ``chat_session_ttl_minutes`` before the browser drops a stored conversation (the
cleanup job gives the server-side thread the same grace)."""

# Inline <script> elements of the rendered layout (Nautobot's own, from its templates): allowed by
# hash. Data blocks (type="application/json") do not run and need no entry.
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.S | re.I)
_EXTERNAL = re.compile(r"\ssrc\s*=", re.I)
_DATA_BLOCK = re.compile(r"""\stype\s*=\s*["']application/(?:ld\+)?json["']""", re.I)


def content_security_policy(html: str) -> str:
    """The page's policy: scripts only from the app's origin plus the layout's own inline
    scripts by hash; no plugins, no frames, no remote images, requests to the origin only."""
    hashes = []
    for match in _INLINE_SCRIPT.finditer(html):
        attrs = match.group("attrs")
        if _EXTERNAL.search(attrs) or _DATA_BLOCK.search(attrs):
            continue
        digest = hashlib.sha256(match.group("body").encode()).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    script_src = " ".join(["'self'", *sorted(set(hashes))])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            # Nautobot's layout sets style attributes; styles cannot run code.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def page_config(user: Any) -> dict[str, Any]:
    """What the page's script needs: API routes, the user's tenants and models, session limits.

    ``tenants`` lists the tenants the user may chat under (empty: no tenant picker); each model
    names its tenant (``None``: shared), so the page offers a tenant's models and the shared ones.
    """
    from django.db.models import Q

    from .models import LLMModel

    settings = get_settings()
    tenants = list(viewable_tenants(user))
    rows = LLMModel.objects.select_related("provider").order_by("provider__name", "name")
    # The defaults anyone may chat with: the shared one and those of the user's tenants.
    defaults = rows.filter(Q(tenant__isnull=True) | Q(tenant__in=tenants), is_default=True)
    allowed = defaults | rows.restrict(user, "view")
    models = [
        {
            "id": str(row.pk),
            "label": f"{row.provider.name}:{row.name}",
            "default": row.is_default,
            "tenant": str(row.tenant_id) if row.tenant_id else None,
        }
        for row in allowed.distinct()
    ]
    _add_budgets(models, user)
    api = "plugins-api:aiops_nautobot-api"
    return {
        "user": str(user.pk),
        "username": user.get_username(),
        "models": models,
        "tenants": [{"id": str(row.pk), "name": row.name} for row in tenants],
        # LAB without any model row: the chat uses AIOPS_MODEL (see services/model_choice.py).
        "fallback_model": _fallback_model(settings.environment) if not models else None,
        "environment": settings.environment,
        "ttl_minutes": settings.chat_session_ttl_minutes,
        "grace_minutes": SESSION_GRACE_MINUTES,
        "urls": {
            "chat": reverse(f"{api}:chat"),
            "approve": reverse(f"{api}:chat-approve"),
            "cancel": reverse(f"{api}:chat-cancel"),
            "conversations": reverse(f"{api}:conversation-list"),
            "models_admin": reverse("plugins:aiops_nautobot:llmmodel_list"),
        },
    }


def _add_budgets(models: list[dict[str, Any]], user: Any) -> None:
    """Each model's ``budget_remaining`` (USD string) for ``user`` when a budget applies; the
    page shows it until the chat API's answers bring a newer one."""
    from .services.usage import budget_remaining, plan_usage

    plan = plan_usage()
    if not plan.budgets:
        return
    for model in models:
        left = budget_remaining(plan, str(user.pk), model["label"])
        if left is not None:
            model["budget_remaining"] = f"{left:.4f}"


def _fallback_model(environment: str) -> str | None:
    from .choices import EnvironmentChoices
    from .services.model_choice import ENV_MODEL

    if environment != EnvironmentChoices.LAB:
        return None
    return os.environ.get(ENV_MODEL, "").strip() or None


class ChatPageView(GenericView):
    """``GET /plugins/ai-ops/chat/``: the chat page (login required)."""

    template_name = "aiops_nautobot/chat.html"

    def get(self, request: Any) -> Any:
        allowed = user_can_chat(request.user)
        context = {
            "title": "Chat",
            "can_chat": allowed,
            "chat_config": page_config(request.user) if allowed else None,
        }
        response = render(request, self.template_name, context, status=200 if allowed else 403)
        response["Content-Security-Policy"] = content_security_policy(response.content.decode())
        response["Cache-Control"] = "no-store"
        return response
