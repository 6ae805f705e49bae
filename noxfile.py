"""Developer tasks: ``nox -s tests`` (the whole suite), ``lint``, ``docs``, ``bench``, ``demo``."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).parent
NODE_DIRS = [
    p.parent for p in ROOT.glob("tests/**/package-lock.json") if "node_modules" not in p.parts
]


@nox.session
def tests(session: nox.Session) -> None:
    """Install everything the suite needs and run it (core, providers, MCP, stores, Nautobot)."""
    session.install("-e", ".[dev]")
    for node_dir in NODE_DIRS:
        session.run(
            "npm",
            "ci",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(node_dir),
            external=True,
        )
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and mypy strict on aiops_core."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", "src", "tests", "benchmarks")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors (``mkdocs build --strict``)."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks and write benchmarks/results/latest.json."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def bench_peers(session: nox.Session) -> None:
    """Prompt caching beside LangChain and pydantic-ai (installs them here, never in the package)."""
    peers = ("langchain>=1", "langchain-anthropic>=1", "pydantic-ai-slim[anthropic]")
    session.install("-e", ".[dev]", *peers)
    session.run("python", "-m", "benchmarks", "--only", "peer_caching", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Install the package alone and run the offline demo."""
    session.install(".")
    session.run("aiops", "demo")
