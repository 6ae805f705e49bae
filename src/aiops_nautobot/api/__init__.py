"""REST API of the app under ``/api/plugins/ai-ops/``."""
