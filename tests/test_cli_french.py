"""Everything a person reads from the command line is French: help, usage errors, click's own
messages. Scanned for English boilerplate on every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli

ROOT = Path(__file__).resolve().parents[1]

# What click says in English when nobody translated it.
ENGLISH = re.compile(
    r"Show this message|Show the version|Usage:|Error:|Invalid value|Missing (argument|option|"
    r"parameter|command)|No such (command|option)|Aborted|Did you mean|is not one of|"
    r"\[default|\brequired\]|does not exist|Commands:|Try '|Got unexpected|requires an argument|"
    r"is not a valid|\bTEXT\b|\bINTEGER\b|\bFILE\b|\bPATH\b|"
    # PyYAML's, and Python's own
    r"\bexpected\b|\bfound\b|while (parsing|scanning)|mapping values|could not|Errno|"
    r"No such file|Permission denied"
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
    ["--config", "absent.yaml", "check"],
    ["browse", "--port", "huit"],
    ["export", "toolbox", "--delimiter", "|"],
    ["digest", "--week"],
    ["-v", "--config"],
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


GOOD_CONFIG = f"""\
discourse:
  url: http://127.0.0.1:9
  api_username: animation-2ise
community:
  name: CdP 2isE
  category: innovation-sociale-estrie
  group: cdp-2ise
paths:
  templates: {ROOT / "templates"}
  jobs: jobs
"""
# Broken config files: the line to fix, in the error.
BROKEN_CONFIGS = [
    (GOOD_CONFIG.replace("group: cdp-2ise", "group: [cdp-2ise"), 7),
    (GOOD_CONFIG.replace("name: CdP 2isE", "name: CdP : 2isE"), 5),
    (GOOD_CONFIG.replace("  category:", "\tcategory:"), 6),
    (GOOD_CONFIG.replace("  group: cdp-2ise", ' group: "cdp-2ise'), 7),
    (GOOD_CONFIG + "store: {path: x\n", 11),
]


@pytest.mark.parametrize("text, line", BROKEN_CONFIGS)
def test_a_broken_config_file_is_french_on_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, line: int
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("config.yaml").write_text(text, encoding="utf-8")
    code, out = invoke(["check"])
    assert code == 2
    assert out.startswith(f"Erreur : config.yaml, ligne {line} : YAML invalide ("), out
    assert len(out.splitlines()) == 1
    assert not ENGLISH.search(out), (ENGLISH.search(out), out)


def test_a_broken_job_file_is_french_on_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("config.yaml").write_text(GOOD_CONFIG, encoding="utf-8")
    Path("jobs").mkdir()
    Path("jobs/webinaire.yaml").write_text(
        "kind: webinaire\ntitle: Webinaire sur la mesure d'impact\ntags: [impact, mesure\n"
        "start: 2099-05-15 12:00\n",
        encoding="utf-8",
    )
    code, out = invoke(["announce", "--dry-run"])
    assert code == 2
    assert "Erreur : jobs/webinaire.yaml, ligne 3 : YAML invalide (crochet « [ » jamais " in out
    assert not ENGLISH.search(out), (ENGLISH.search(out), out)


# Words that give an English comment away (the .en twins may keep theirs).
ENGLISH_COMMENT = re.compile(
    r"\b(the|of|when|posted|shared|without|its|and|reply|is|an)\b", re.IGNORECASE
)
COMMENT = re.compile(r"\{#-?(.*?)-?#\}", re.DOTALL)
FRENCH_TEMPLATES = sorted(
    p for p in (ROOT / "templates").glob("*.j2") if not p.name.endswith(".en.md.j2")
)


@pytest.mark.parametrize("template", FRENCH_TEMPLATES, ids=lambda p: p.name)
def test_the_french_templates_comments_are_french(template: Path) -> None:
    comments = COMMENT.findall(template.read_text(encoding="utf-8"))
    # Variable names (`when`) are code, not words.
    english = [c for c in comments if ENGLISH_COMMENT.search(re.sub(r"`[^`]*`", "", c))]
    assert not english, english


def test_the_comment_checker_catches_english() -> None:
    assert len(FRENCH_TEMPLATES) >= 9
    assert ENGLISH_COMMENT.search(" Announcement of a webinar (kind: webinaire). ")
    assert not ENGLISH_COMMENT.search(" L'annonce d'un webinaire (kind: webinaire). ")
