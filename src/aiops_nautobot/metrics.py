"""Metrics Nautobot's ``/metrics`` collects from the app at scrape time (``AiopsConfig.metrics``).

Importing this module also registers the app's counters and histograms
(:mod:`aiops_nautobot.services.metrics`) in prometheus_client's default registry.
"""

from __future__ import annotations

from .services.metrics import mcp_health_metrics

metrics = [mcp_health_metrics]
