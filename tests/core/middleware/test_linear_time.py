"""Every pattern run on user, tool or model text takes time linear in the text's length.

The redaction and injection patterns run on the event loop, over text an attacker may shape. Each
one is timed on adversarial inputs (hand-made worst cases and fuzzed ones) of ``N`` and ``8 N``
characters: linear code takes about 8 times as long on the longer text, quadratic code about 64
times. The limit of 20 leaves wide margins for a shared machine; CPU time of this thread is
measured, so other processes do not count.

The scanners that replace regexes too slow to keep (e-mail, private key) are checked against those
regexes, which stay here as their specification.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from aiops_core.masking import Scrubber, mask_url
from aiops_core.messages import AssistantMessage
from aiops_core.middleware._patterns import PATTERNS, Pattern, redact
from aiops_core.middleware._text import rewrite_stream
from aiops_core.middleware.prompt_injection import CATEGORIES, find_injections
from aiops_core.providers.base import ModelResponse, ResponseDone, TextDelta

pytestmark = pytest.mark.slow

N = 2000
LIMIT = 20.0
"""Most CPU time a text 8 times longer may take, as a multiple (linear: 8, quadratic: 64)."""

UNITS = [
    # one character, and runs that sit inside every character class of the patterns
    *"a1 .-@:_\n\t#=+(/[<`\"'",
    "a@", "a.", "a-", "1.", "1-", "1 ", "12.", "123.", "a.a", "a-a.", "a@a", "a@a.", "@a.", "-@a.a",
    "_a@", "a.a@", "a@a.a.a.", "ab@ab.ab ", "aa:", "0a:", "aaaa.", "1.1.1.", "1.1 ", "1-1", "+1",
    "+1 ", "(1)", "(12)", "12-", " \t", "\n ", "\n#", "==", "<|", "```", "a b",
    # the keywords each pattern starts from, repeated without what must follow them
    "sk-", "sk-a", "xoxa-", "AKIA", "ghp_", "hf_", "AIza", "Bearer ", "Bearer a", "api_key",
    "api_key=", "api_key \"", "password ", "password=", "password 7 ", "secret 5 ", "key ",
    "\n password ", "username a ", "username a privilege 1 ", "snmp-server community ",
    "tacacs-server host a ", "crypto isakmp key ", "-----BEGIN PRIVATE KEY-----", "-----BEGIN A",
    "-----END PRIVATE KEY-----", "ignore ", "ignore the ", "ignore all the ", "tell me ",
    "show ", "show your ", "pretend ", "act as ", "you ", "you are now ", "new ", "system",
    "\nsystem", "### ", "[INST", "<|im_start",
]  # fmt: skip

ATOMS = [*"aZ19.-_@ \n\t:=#+()/'\"<|[", "sk-", "password", "secret", "key", "BEGIN", "-----",
         "ignore", "the", "system", "you", "@ex.com"]  # fmt: skip


def fuzzed_units(count: int = 8, seed: int = 20) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ATOMS, k=rng.randint(1, 8))) for _ in range(count)]


def random_text(length: int, seed: int) -> str:
    rng = random.Random(seed)
    text = ""
    while len(text) < length:
        text += "".join(rng.choices(ATOMS, k=256))
    return text[:length]


def repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def cpu_time(fn: Callable[[str], Any], text: str) -> float:
    """The least CPU time of this thread ``fn(text)`` took over a few runs."""
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 2 or (spent < 0.005 and runs < 20):
        start = time.thread_time()
        fn(text)
        took = time.thread_time() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return max(best, 1e-7)


def worst_growth(fn: Callable[[str], Any]) -> tuple[float, str]:
    """The largest time ratio between an 8N and an N text, and the input that showed it."""
    cases = [(repr(u), repeat(u, N), repeat(u, 8 * N)) for u in [*UNITS, *fuzzed_units()]]
    for seed in range(3):
        text = random_text(8 * N, seed)
        cases.append((f"random text {seed}", text[:N], text))
    worst = (0.0, "")
    for name, small, large in cases:
        ratio = cpu_time(fn, large) / cpu_time(fn, small)
        if ratio > LIMIT:  # measure once more before blaming the code
            ratio = min(ratio, cpu_time(fn, large) / cpu_time(fn, small))
        worst = max(worst, (ratio, name))
    return worst


def spans(pattern: Pattern) -> Callable[[str], Any]:
    return lambda text: list(pattern.spans(text))


def finds(regex: re.Pattern[str]) -> Callable[[str], Any]:
    return lambda text: list(regex.finditer(text))


@pytest.mark.parametrize(
    "fn",
    [
        *(pytest.param(spans(p), id=f"{p.type}-{i}") for i, p in enumerate(PATTERNS)),
        *(
            pytest.param(finds(regex), id=f"{category}-{i}")
            for category, regexes in CATEGORIES.items()
            for i, regex in enumerate(regexes)
        ),
        pytest.param(lambda text: redact(text, {p.type for p in PATTERNS}), id="redact-all"),
        pytest.param(find_injections, id="find_injections"),
    ],
)
def test_patterns_take_linear_time(fn: Callable[[str], Any]) -> None:
    ratio, worst = worst_growth(fn)
    assert ratio < LIMIT, f"8x the text took {ratio:.0f}x the time on {worst}"


def test_streamed_redaction_takes_linear_time() -> None:
    def stream(text: str) -> None:
        async def deltas() -> AsyncIterator[Any]:
            for start in range(0, len(text), 16):
                yield TextDelta(text[start : start + 16])
            yield ResponseDone(ModelResponse(message=AssistantMessage(content="")))

        async def drain() -> None:
            async for _ in rewrite_stream(deltas(), lambda chunk: chunk):
                pass

        anyio.run(drain)

    ratio, worst = worst_growth(stream)
    assert ratio < LIMIT, f"8x the stream took {ratio:.0f}x the time on {worst}"


def test_secret_scrubbing_takes_linear_time() -> None:
    scrubber = Scrubber(["sk-test-secret\n", "a@a.a.a", "password 7 "])
    for fn in (scrubber, mask_url):
        ratio, worst = worst_growth(fn)
        assert ratio < LIMIT, f"8x the text took {ratio:.0f}x the time on {worst}"


# ------------------------------------------------------------------ scanners match their regex
EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")
PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
)
SCANNED = {"email": EMAIL, "private_key": PRIVATE_KEY}
SHAPES = [*"abZ19.-_%+@ \n\té", "com", ".io", "@ex.com", "--", "..", "x1",
          "-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
          "-----END PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "-----END CERTIFICATE-----"]  # fmt: skip


@pytest.mark.parametrize("kind", sorted(SCANNED))
def test_scanners_find_what_their_regex_finds(kind: str) -> None:
    (pattern,) = [p for p in PATTERNS if p.type == kind]
    rng = random.Random(kind)
    for _ in range(20_000):
        text = "".join(rng.choices(SHAPES, k=rng.randint(1, 20)))
        expected = [m.span() for m in SCANNED[kind].finditer(text)]
        assert [(start, end) for start, _, end in pattern.spans(text)] == expected, text
        if expected:
            assert pattern.regex.search(text), f"the prefilter must match where {kind} does"


def test_delimiter_pattern_keeps_its_matches() -> None:
    before = re.compile(
        r"^[ \t]*(?:#{2,}|-{3,}|={3,})?[ \t]*(?:system|assistant)[ \t]*:", re.I | re.M
    )
    after = CATEGORIES["delimiter_injection"][2]
    rng = random.Random(2)
    shapes = [" ", "\t", "\n", "#", "##", "---", "===", "system", "Assistant", ":", "x", " :"]
    for _ in range(20_000):
        text = "".join(rng.choices(shapes, k=rng.randint(1, 12)))
        assert [m.span() for m in after.finditer(text)] == [
            m.span() for m in before.finditer(text)
        ], text
