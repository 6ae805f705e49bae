"""The use_chat permission."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from nautobot.apps.testing import TestCase
from nautobot.users.models import ObjectPermission
from rest_framework.test import APIRequestFactory

from aiops_nautobot.models import Conversation
from aiops_nautobot.permissions import UseChatPermission, user_can_chat


class UseChatTest(TestCase):
    def grant(self, user, actions):
        permission = ObjectPermission.objects.create(name=f"chat {actions}", actions=actions)
        permission.object_types.add(ContentType.objects.get_for_model(Conversation))
        permission.users.add(user)

    def fresh(self, user):
        return get_user_model().objects.get(pk=user.pk)  # drops the permission cache

    def test_granted_by_object_permission_action(self):
        user = get_user_model().objects.create_user(username="chatter")
        self.assertFalse(user_can_chat(self.fresh(user)))
        self.grant(user, ["view"])
        self.assertFalse(user_can_chat(self.fresh(user)))
        self.grant(user, ["use_chat"])
        self.assertTrue(user_can_chat(self.fresh(user)))

    def test_superuser_and_anonymous(self):
        admin = get_user_model().objects.create_user(username="admin", is_superuser=True)
        self.assertTrue(user_can_chat(admin))
        self.assertFalse(user_can_chat(AnonymousUser()))
        inactive = get_user_model().objects.create_user(username="gone", is_active=False)
        self.assertFalse(user_can_chat(inactive))

    def test_drf_permission(self):
        request = APIRequestFactory().post("/api/plugins/ai-ops/chat/")
        user = get_user_model().objects.create_user(username="api-chatter")
        request.user = user
        self.assertFalse(UseChatPermission().has_permission(request, None))
        self.grant(user, ["use_chat"])
        request.user = self.fresh(user)
        self.assertTrue(UseChatPermission().has_permission(request, None))
