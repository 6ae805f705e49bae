"""The MCP tool catalog: every tool an MCP server offered, with its review.

A tool's ``fingerprint`` is the digest of its definition as last listed (name, description,
input schema, annotations). A reviewer's ``reviewed_fingerprint`` pins the definition they
reviewed: when the server later changes it (a "rug pull"), the tool is refused until someone
reviews it again. See :mod:`aiops_nautobot.services.mcp_catalog`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from nautobot.apps.models import PrimaryModel, extras_features

from ..choices import MCPToolAccessChoices
from .llm import FEATURES

__all__ = ["MCPTool"]


@extras_features(*FEATURES)
class MCPTool(PrimaryModel):
    """One tool of an MCP server, as the catalog knows it."""

    server = models.ForeignKey(
        "aiops_nautobot.MCPServer", on_delete=models.CASCADE, related_name="tools"
    )
    name = models.CharField(max_length=200, help_text="The server's own name for the tool")
    description = models.TextField(blank=True, editable=False)
    fingerprint = models.CharField(
        max_length=64, editable=False, help_text="Digest of the definition as last listed"
    )
    enabled = models.BooleanField(default=True, help_text="Offer the tool to the model")
    access = models.CharField(
        max_length=20,
        choices=MCPToolAccessChoices,
        default=MCPToolAccessChoices.WRITABLE,
        help_text="Writable tools must be reviewed, and every call is approved by a person",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["server__name", "name"]
        unique_together = [("server", "name")]
        verbose_name = "MCP tool"

    def __str__(self) -> str:
        return f"{self.server}: {self.name}"

    @property
    def reviewed(self) -> bool:
        """Whether someone reviewed the tool's current definition."""
        return bool(self.reviewed_fingerprint) and self.reviewed_fingerprint == self.fingerprint

    @property
    def changed_since_review(self) -> bool:
        """Whether the definition changed after a review (refused until reviewed again)."""
        return bool(self.reviewed_fingerprint) and self.reviewed_fingerprint != self.fingerprint

    def mark_reviewed(self, user: object) -> None:
        """Record ``user``'s review of the current definition (saves the row)."""
        from django.utils import timezone

        self.reviewed_by = user  # type: ignore[assignment]
        self.reviewed_at = timezone.now()
        self.reviewed_fingerprint = self.fingerprint
        self.validated_save()
