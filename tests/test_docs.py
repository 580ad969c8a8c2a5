"""The README is the users' manual: every command is documented, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_a_readme_section(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert cli.commands[name].help, f"{name} has no help text"
    assert f"### `bridge {name}" in README, f"README has no section for bridge {name}"
    assert f"$ bridge {name}" in README


def test_the_readme_gives_the_two_setup_commands_near_the_top() -> None:
    top = README[:2500]
    commands = re.findall(r"^python3 -m venv .*$", top, flags=re.M)
    assert any(c.endswith("bridge demo") for c in commands)
    assert any(c.endswith("pytest") for c in commands)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = next(
        c for c in re.findall(r"^python3 -m venv .*$", README, flags=re.M) if c.endswith("pytest")
    )
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci
    assert "set -euo pipefail" in ci


@pytest.mark.parametrize(
    "wall",
    ["ruff check .", "ruff format --check .", "mypy bridge", "lint-imports"],
)
def test_ci_checks_the_walls(wall: str) -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # Each on its own line, so that set -e stops CI on the first that fails.
    assert f".venv/bin/{wall}" in ci


def test_example_config_documents_every_key() -> None:
    lines = (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*[a-z_]+:\s*\S", line) and not line.lstrip().startswith("#"):
            above = lines[i - 1].strip()
            assert above.startswith("#") or lines[i - 1].rstrip().endswith(":"), (
                f"config.yaml line {i + 1} has no comment: {line}"
            )
