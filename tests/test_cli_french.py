"""Everything a person reads from the command line is French: help, usage errors, click's own
messages. Scanned for English boilerplate on every command."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from bridge.cli import cli

# What click says in English when nobody translated it.
ENGLISH = re.compile(
    r"Show this message|Show the version|Usage:|Error:|Invalid value|Missing (argument|option|"
    r"parameter|command)|No such (command|option)|Aborted|Did you mean|is not one of|"
    r"\[default|\brequired\]|does not exist|Commands:|Try '|Got unexpected|requires an argument|"
    r"is not a valid|\bTEXT\b|\bINTEGER\b|\bFILE\b|\bPATH\b"
)

COMMANDS = sorted(cli.commands)

USAGE_ERRORS = [
    ["nope"],
    ["--nope"],
    ["synk"],  # a near miss: click suggests
    ["search"],
    ["search", "--limit", "0", "x"],
    ["search", "--limit", "beaucoup", "x"],
    ["export", "carte"],
    ["export", "toolbox", "--format", "pdf"],
    ["export", "toolbox", "--output"],
    ["announce", "absent.yaml"],
    ["sync", "en-trop"],
]


def invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, prog_name="bridge", env={"DISCOURSE_API_KEY": ""})
    return result.exit_code, result.output


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_help_is_french(command: list[str]) -> None:
    code, out = invoke([*command, "--help"])
    assert code == 0
    assert out.startswith("Utilisation : bridge")
    assert "Afficher cette aide et quitter." in out
    assert not ENGLISH.search(out), ENGLISH.search(out)


def test_every_command_is_in_the_scan() -> None:
    # A new command is scanned as soon as it exists; this says the scan is not empty.
    assert {"check", "sync", "search", "export", "announce", "status"} <= set(COMMANDS)


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_usage_errors_are_french_and_exit_2(args: list[str]) -> None:
    code, out = invoke(args)
    assert code == 2
    assert "Erreur : " in out
    assert not ENGLISH.search(out), (ENGLISH.search(out), out)


def test_a_near_miss_is_suggested_in_french() -> None:
    _, out = invoke(["synk"])
    assert "Vouliez-vous dire 'sync' ?" in out


def test_the_checker_catches_english() -> None:
    # The scan cannot pass vacuously: click's untranslated words are caught.
    assert ENGLISH.search("Error: No such command 'x'.")
    assert ENGLISH.search("  --help  Show this message and exit.")
