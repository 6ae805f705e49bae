"""The documentation site builds with warnings as errors, and picks up new pages by itself.

CI runs only the test suite, so a broken page (a dead link, a bad docstring reference, a page
the navigation cannot place) fails here like a broken test. ``nox -s docs`` is the same build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")


def build(config_dir: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=config_dir,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    out = build(ROOT, tmp_path / "site")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "site" / "user" / "cli" / "index.html").is_file()
    reference = (tmp_path / "site" / "dev" / "code_reference" / "agent" / "index.html").read_text()
    assert "Continue a run paused for approval" in reference  # from Agent.resume's docstring
    notes = (tmp_path / "site" / "admin" / "release_notes" / "index.html").read_text()
    assert "Unreleased" in notes  # CHANGELOG.md is included


@pytest.mark.slow
def test_a_new_page_joins_the_navigation_without_editing_it(tmp_path: Path) -> None:
    """Other work adds pages under docs/user, docs/admin, docs/dev: the strict build places them."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    for name in ("mkdocs.yml", "CHANGELOG.md", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "src").symlink_to(ROOT / "src")
    (tmp_path / "docs" / "admin" / "security_model.md").write_text("# Security model\n\nNew.\n")
    out = build(tmp_path, tmp_path / "site")
    assert out.returncode == 0, out.stderr
    home = (tmp_path / "site" / "admin" / "install" / "index.html").read_text()
    assert 'href="../security_model/"' in home  # in the navigation of every page
