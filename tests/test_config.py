"""Configuration: the example file loads, and every mistake is one plain line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.config import load_config
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
discourse:
  url: https://passerelles.encommun.io
  api_username: animation-2ise
community:
  name: CdP 2isE
  category: innovation-sociale-estrie
  group: cdp-2ise
  timezone: America/Toronto
  locale: fr_CA
  facilitators_group: animation-2ise
  subcategories:
    toolbox: boite-a-outils
    cartography: cartographie
    welcome: bienvenue
    announcements: annonces
store:
  path: data/bridge.db
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_at_the_root_loads() -> None:
    config = load_config(ROOT / "config.yaml", env={})
    assert config.discourse.url == "https://passerelles.encommun.io"
    assert config.community.category == "innovation-sociale-estrie"
    assert config.community.subcategories.cartography == "cartographie"
    assert config.store_path == ROOT / "data" / "bridge.db"
    assert config.discourse.api_key is None
    assert (config.digest.target, config.digest.quiet_week, config.digest.most_active) == (
        "facilitators",
        "short",
        5,
    )


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, GOOD),
        env={"DISCOURSE_API_KEY": "s3cret-key", "DISCOURSE_API_USERNAME": "autre-compte"},
    )
    assert config.require_api_key() == "s3cret-key"
    assert config.discourse.api_username == "autre-compte"
    assert "s3cret-key" not in repr(config)


def test_missing_key_in_environment_is_a_config_error(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env={})
    with pytest.raises(ConfigError, match="DISCOURSE_API_KEY n'est pas défini"):
        config.require_api_key()


def test_defaults_fill_optional_sections(tmp_path: Path) -> None:
    minimal = "\n".join(GOOD.splitlines()[:7]) + "\n"
    config = load_config(write(tmp_path, minimal), env={})
    assert config.community.timezone == "America/Toronto"
    assert config.community.locale == "fr_CA"
    assert config.community.subcategories.toolbox == "boite-a-outils"
    assert config.discourse.requests_per_minute == 50.0
    assert config.store_path == tmp_path / "data" / "bridge.db"


BAD = [
    # (what is wrong, the change, words the message must hold)
    ("YAML syntax", GOOD.replace("  group: cdp-2ise", "  group: [cdp"), ["YAML invalide", "ligne"]),
    ("not a mapping", "- a\n- b\n", ["doit contenir des clés"]),
    ("unknown top key", GOOD + "surprise: 1\n", ["ligne 18", "surprise : clé inconnue"]),
    (
        "unknown nested key",
        GOOD.replace("  locale: fr_CA", "  langue: fr_CA"),
        ["ligne 9", "community.langue : clé inconnue"],
    ),
    (
        "url not http(s)",
        GOOD.replace("https://passerelles", "ftp://passerelles"),
        ["ligne 2", "discourse.url", "adresse http(s) attendue"],
    ),
    (
        "url not a url",
        GOOD.replace("https://passerelles.encommun.io", "passerelles"),
        ["discourse.url"],
    ),
    (
        "url wrong type",
        GOOD.replace("https://passerelles.encommun.io", "[1, 2]"),
        ["discourse.url", "un texte attendu"],
    ),
    (
        "missing url",
        GOOD.replace("  url: https://passerelles.encommun.io\n", ""),
        ["discourse.url : valeur manquante"],
    ),
    ("missing section", GOOD.split("community:")[0], ["community : section attendue"]),
    (
        "recheck days not a whole number",
        GOOD + "sync:\n  recheck_days: 1.5\n",
        ["ligne 19", "sync.recheck_days", "nombre entier de jours de 0 à 365"],
    ),
    (
        "recheck days negative",
        GOOD + "sync:\n  recheck_days: -3\n",
        ["sync.recheck_days", "un nombre positif ou 0"],
    ),
    (
        "unknown timezone",
        GOOD.replace("America/Toronto", "Amerique/Sherbrooke"),
        ["ligne 8", "community.timezone", "fuseau horaire inconnu"],
    ),
    (
        "abbreviated timezone",
        GOOD.replace("America/Toronto", "EST"),
        ["ligne 8", "community.timezone", "« EST » refusé", "comme America/Toronto"],
    ),
    (
        "canada/eastern timezone",
        GOOD.replace("America/Toronto", "Canada/Eastern"),
        ["ligne 8", "community.timezone", "refusé", "comme America/Toronto"],
    ),
    (
        "france's french",
        GOOD.replace("fr_CA", "fr_FR"),
        ["ligne 9", "community.locale", "« fr_FR » : fr_CA ou en_CA"],
    ),
    (
        "unknown locale",
        GOOD.replace("fr_CA", "zz_QQ"),
        ["ligne 9", "community.locale", "langue inconnue"],
    ),
    (
        "empty name",
        GOOD.replace("name: CdP 2isE", "name: ''"),
        ["community.name", "un texte attendu"],
    ),
    ("group as list", GOOD.replace("group: cdp-2ise", "group: [a, b]"), ["community.group"]),
    (
        "rate not a number",
        GOOD.replace(
            "  api_username: animation-2ise",
            "  api_username: animation-2ise\n  requests_per_minute: vite",
        ),
        ["discourse.requests_per_minute", "un nombre positif ou 0 (sans limite) attendu"],
    ),
    (
        "negative timeout",
        GOOD.replace(
            "  api_username: animation-2ise", "  api_username: animation-2ise\n  timeout: -3"
        ),
        ["discourse.timeout"],
    ),
    (
        "unknown subcategory key",
        GOOD.replace("    welcome: bienvenue", "    accueil: bienvenue"),
        ["community.subcategories.accueil : clé inconnue"],
    ),
    (
        "subcategories as a list",
        GOOD.split("  subcategories:")[0] + "  subcategories: [a, b]\nstore:\n  path: x.db\n",
        ["community.subcategories : section attendue"],
    ),
    (
        "store path as number list",
        GOOD.replace("path: data/bridge.db", "path: [1]"),
        ["store.path"],
    ),
    (
        "cartography labels not a list",
        GOOD + "cartography:\n  labels:\n    territory: MRC\n",
        ["cartography.labels.territory", "liste de libellés attendue"],
    ),
    (
        "cartography unknown required field",
        GOOD + "cartography:\n  required: [couleur]\n",
        ["cartography.required"],
    ),
    (
        "digest quiet week unknown",
        GOOD + "digest:\n  quiet_week: parfois\n",
        ["ligne 19", "digest.quiet_week", "short (un résumé court) ou none"],
    ),
    (
        "digest most active zero",
        GOOD + "digest:\n  most_active: 0\n",
        ["digest.most_active", "un nombre positif attendu"],
    ),
    (
        "digest most active too many",
        GOOD + "digest:\n  most_active: 500\n",
        ["ligne 19", "digest.most_active", "un nombre entier de 1 à 50"],
    ),
    (
        "digest target as a list",
        GOOD + "digest:\n  target: [a]\n",
        ["digest.target", "un nom (slug) ou un numéro"],
    ),
    (
        "digest unknown key",
        GOOD + "digest:\n  cible: animation\n",
        ["digest.cible : clé inconnue"],
    ),
    (
        "boolean as category",
        GOOD.replace("category: innovation-sociale-estrie", "category: yes"),
        ["community.category"],
    ),
]


@pytest.mark.parametrize("what,text,words", BAD, ids=[b[0] for b in BAD])
def test_bad_configuration_is_one_clear_line_and_exit_2(
    tmp_path: Path, what: str, text: str, words: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for word in words:
        assert word in message, (what, message)

    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_file_names_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "absent.yaml"), "status"])
    assert result.exit_code == 2
    assert "absent.yaml : fichier de configuration introuvable" in result.output


def test_recheck_days_default_to_14_and_0_turns_them_off(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD), env={}).sync.recheck_days == 14
    zero = load_config(write(tmp_path, GOOD + "sync:\n  recheck_days: 0\n"), env={})
    assert zero.sync.recheck_days == 0


def test_custom_card_labels_extend_the_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, GOOD + "cartography:\n  labels:\n    territory: [Secteur, MRC]\n"), env={}
    )
    assert config.cartography.labels["territory"] == (
        "Secteur",
        "MRC",
        "Territoire",
        "Région",
        "Municipalité",
    )
    assert "Organisme" in config.cartography.labels["organisation"]


@pytest.mark.parametrize("key", ["clé-secrète", "abc123\n", " abc123"])
def test_a_key_that_cannot_be_sent_is_a_config_error(tmp_path: Path, key: str) -> None:
    config = load_config(write(tmp_path, GOOD), env={"DISCOURSE_API_KEY": key})
    with pytest.raises(ConfigError) as info:
        config.require_api_key()
    assert "recopiez la clé" in str(info.value)
    assert key.strip() not in str(info.value)


def test_a_key_written_twice_is_one_clear_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "store:\n  path: autre.db\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value) == (
        f"{path}, ligne 18 : YAML invalide (clé « store » écrite deux fois (déjà à la ligne 16))"
    )


def test_an_alias_holding_itself_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("discourse:\n", "discourse: &d\n  timeout: *d\n"))
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}, ligne 2, discourse.timeout : un nombre positif")
