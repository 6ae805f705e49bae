"""Schemathesis against the app's OpenAPI schema, on a real Nautobot (uWSGI, autocommit, as
deployed): every AI Ops operation, with requests generated from the schema (valid) and against
it (malformed bodies, parameters of the wrong type or out of range). Whatever is sent, the
answer is never a 500 and never shows a traceback. Rows the fuzzer creates are deleted when the
server stops (``NautobotServer.stop``)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from .report import RESULTS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    # Schemathesis' own negative-mode strategies draw from `random` (its code, not ours).
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

PREFIX = "/plugins/ai-ops/"  # schema paths are relative to the server URL "/api"
# Examples per operation and mode; AIOPS_FUZZ_EXAMPLES=200 for a longer hunt.
EXAMPLES = int(os.environ.get("AIOPS_FUZZ_EXAMPLES", "4"))


def test_no_ai_ops_operation_answers_500_or_a_traceback(nautobot) -> None:
    server, _llm, _store = nautobot
    headers = {"Authorization": f"Token {server.token}"}
    response = httpx2.get(f"{server.url}/api/swagger.json", headers=headers, timeout=300)
    assert response.status_code == 200 and "paths" in response.json(), response.text[:500]
    raw = response.json()
    raw["paths"] = {p: v for p, v in raw["paths"].items() if p.startswith(PREFIX)}
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40, [o.label for o in operations]  # every AI Ops endpoint is in
    failures: list[str] = []
    sent = 0
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                # The same cases every run (CI stays reproducible); AIOPS_FUZZ_RANDOM=1 explores.
                derandomize=os.environ.get("AIOPS_FUZZ_RANDOM") != "1",
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case) -> None:
                nonlocal sent
                sent += 1
                response = case.call(base_url=f"{server.url}/api", headers=headers, timeout=60)
                if response.status_code == 500 or "Traceback" in response.text:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200}"
                        f" -> {response.status_code} {response.text[:300]}"
                    )

            check()
    if failures:
        report = Path(os.environ.get("AIOPS_FUZZ_REPORT", "build/openapi-fuzz-failures.txt"))
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("\n".join(failures))
    assert not failures, "\n".join(failures[:15])
    RESULTS.add_inputs(
        "OpenAPI fuzz (Schemathesis), every AI Ops operation", sent, "no 500, no traceback"
    )
