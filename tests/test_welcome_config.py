"""The `welcome:` section of config.yaml: defaults, values, and one clear line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.config import load_config
from bridge.errors import ConfigError
from bridge.welcome.config import WelcomeConfig

ROOT = Path(__file__).resolve().parents[1]
GOOD = """\
discourse: {url: https://passerelles.encommun.io, api_username: animation-2ise}
community: {name: CdP 2isE, category: innovation-sociale-estrie, group: cdp-2ise}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_the_example_config(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD), env={}).welcome == WelcomeConfig(
        "topic", 5, 30, 7, 365, 0, ""
    )
    example = load_config(ROOT / "config.yaml", env={}).welcome
    assert example.mode == "topic" and example.quiet_minutes == 30
    assert example.guidelines_url == "https://passerelles.encommun.io/guidelines"


def test_values_are_read(tmp_path: Path) -> None:
    text = GOOD + (
        "welcome: {mode: message, collective_threshold: 10, quiet_minutes: 0, "
        "follow_up_days: 0, rejoin_days: 30, also_recent_days: 3, "
        "guidelines_url: 'https://exemple.ca/regles'}\n"
    )
    assert load_config(write(tmp_path, text), env={}).welcome == WelcomeConfig(
        "message", 10, 0, 0, 30, 3, "https://exemple.ca/regles"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("welcome: {mode: forum}", "welcome.mode : topic (un sujet"),
        ("welcome: {collective_threshold: 0}", "welcome.collective_threshold : un nombre positif"),
        ("welcome: {quiet_minutes: -5}", "welcome.quiet_minutes : un nombre positif ou 0"),
        ("welcome: {follow_up_days: 1.5}", "welcome.follow_up_days : un nombre entier"),
        ("welcome: {rejoin_days: beaucoup}", "welcome.rejoin_days : un nombre positif ou 0"),
        ("welcome: {guidelines_url: regles.html}", "welcome.guidelines_url : adresse http(s)"),
        ("welcome: {accueil: oui}", "welcome.accueil : clé inconnue"),
    ],
)
def test_a_mistake_is_one_clear_line_and_exit_2(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, GOOD + text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert words in str(info.value) and "\n" not in str(info.value)
    result = CliRunner().invoke(cli, ["--config", str(path), "welcome", "--dry-run"])
    assert result.exit_code == 2 and "Traceback" not in result.output
