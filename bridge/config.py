"""Reading and validating `config.yaml`, and the secrets from the environment.

Every mistake becomes one `ConfigError` line naming the file, the key (and its line where YAML
knows it) and what was expected: the people who edit this file are facilitators, not programmers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bridge.configvalues import (
    KIND_WORDS,
    check_count,
    check_locale,
    check_quiet,
    check_url,
    shown,
)
from bridge.errors import ConfigError
from bridge.jobvalues import read_timezone
from bridge.schedule import Schedule, read_schedule
from bridge.syncconfig import SyncConfig, read_sync
from bridge.webhooks.settings import SECTION as HOOKS
from bridge.webhooks.settings import WebhooksConfig, read_webhooks
from bridge.welcome.config import WelcomeConfig, read_welcome
from bridge.yamlfile import Document, Reader, load_document

ENV_CONFIG = "BRIDGE_CONFIG"
ENV_API_KEY = "DISCOURSE_API_KEY"
ENV_API_USERNAME = "DISCOURSE_API_USERNAME"
# The languages the templates are written in.

# Cartography card labels as members write them; facilitators may extend these in config.yaml.
DEFAULT_CARD_LABELS: dict[str, tuple[str, ...]] = {
    "organisation": ("Organisation", "Organisme", "Nom de l'organisme", "Nom"),
    "territory": ("Territoire", "MRC", "Région", "Municipalité"),
    "themes": (
        "Thématiques",
        "Thématique",
        "Thèmes",
        "Thème",
        "Mots-clés",
        "Secteur d'activité",
        "Domaine d'action",
    ),
    "website": ("Site web", "Site Internet", "Site", "Web", "Lien", "Adresse web"),
    "contact": (
        "Contact",
        "Courriel",
        "Adresse courriel",
        "Téléphone",
        "Tél",
        "Personne-ressource",
        "Personne contact",
        "Responsable",
        "Nous joindre",
    ),
    "description": ("Description", "Mission", "Présentation"),
    "coordinates": ("Coordonnées GPS", "Coordonnées", "Position", "GPS"),
}
# Fields cards often hold beyond the model above: read as fields of their own (kept in the card's
# `fields`), so that they never spill into its description.
DEFAULT_EXTRA_CARD_LABELS: tuple[str, ...] = (
    "Réseaux sociaux",
    "Facebook",
    "Instagram",
    "LinkedIn",
    "TikTok",
    "YouTube",
    "Suivez-nous",
    "Nous suivre",
    "Heures d'ouverture",
    "Heures",
    "Horaire",
    "Année de fondation",
    "Date de fondation",
    "Fondé en",
    "Fondée en",
    "Ouvert depuis",
    "Adresse",
    "Public cible",
    "Clientèle",
    "Partenaires",
    "Statut",
    "Statut juridique",
    "Nombre de membres",
    "Membres",
    "Nombre d'employés",
    "Dons",
    "Tarif",
    "Saison",
)
DEFAULT_CARD_REQUIRED = ("organisation", "territory", "description")


@dataclass(frozen=True)
class SiteSettings:
    """The Discourse site settings the bridge must respect before it writes, with Discourse's
    defaults: a moderator's key cannot read them, so a site that changed them says so here."""

    min_post_length: int = 20
    min_first_post_length: int = 20
    min_personal_message_post_length: int = 10
    max_post_length: int = 32_000
    min_topic_title_length: int = 15
    min_personal_message_title_length: int = 2
    max_topic_title_length: int = 255
    max_emojis_in_title: int = 3
    title_prettify: bool = True
    allow_uppercase_posts: bool = False


@dataclass(frozen=True)
class DiscourseConfig:
    url: str
    api_username: str
    # Filled from the environment only; never printed (repr=False).
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    requests_per_minute: float = 50.0
    site_settings: SiteSettings = field(default_factory=SiteSettings)


@dataclass(frozen=True)
class Subcategories:
    toolbox: str = "boite-a-outils"
    cartography: str = "cartographie"
    welcome: str = "bienvenue"
    announcements: str = "annonces"
    # The keys written in config.yaml (the others have their defaults).
    written: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CommunityConfig:
    name: str
    category: str
    group: str
    timezone: str = "America/Toronto"
    locale: str = "fr_CA"
    facilitators_group: str = ""
    subcategories: Subcategories = field(default_factory=Subcategories)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class CartographyConfig:
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_CARD_LABELS))
    required: tuple[str, ...] = DEFAULT_CARD_REQUIRED


# Where the digest goes: a private message to the facilitators' group, or a subcategory's slug.
DIGEST_TO_FACILITATORS = "facilitators"


@dataclass(frozen=True)
class DigestConfig:
    target: str = DIGEST_TO_FACILITATORS
    # A week with no new topic and no reply: a short digest, or none at all.
    quiet_week: str = "short"
    # How many of the week's most active discussions the digest lists.
    most_active: int = 5


@dataclass(frozen=True)
class Config:
    discourse: DiscourseConfig
    community: CommunityConfig
    store_path: Path
    templates_dir: Path
    jobs_dir: Path
    sync: SyncConfig = field(default_factory=SyncConfig)
    cartography: CartographyConfig = field(default_factory=CartographyConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    schedule: Schedule = field(default_factory=Schedule)
    webhooks: WebhooksConfig | None = None  # None: no `webhooks:` section, no endpoint
    welcome: WelcomeConfig = field(default_factory=WelcomeConfig)
    source: Path | None = None

    @property
    def site(self) -> str:
        return self.discourse.url

    def require_api_key(self) -> str:
        """The API key, or a ConfigError saying how to provide it."""
        if not self.discourse.api_key:
            raise ConfigError(
                f"{ENV_API_KEY} n'est pas défini dans l'environnement : cette commande en a besoin "
                f"pour parler à {self.discourse.url} (la clé ne se met jamais dans "
                f"{self.source.name if self.source else 'config.yaml'})."
            )
        key = self.discourse.api_key
        # Sent as an HTTP header: printable ASCII only (a pasted key may carry a newline).
        if not key.isascii() or not key.isprintable() or key != key.strip():
            raise ConfigError(
                f"{ENV_API_KEY} contient des espaces, un retour à la ligne ou des caractères "
                "non ASCII : recopiez la clé telle que Discourse l'affiche"
            )
        return key


# --- loading -----------------------------------------------------------------------------------


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read, validate and return the configuration; raise ConfigError on the first mistake."""
    env = os.environ if env is None else env
    path = Path(path)
    document = load_document(
        path,
        str(path),
        ConfigError,
        missing=(
            "fichier de configuration introuvable (copiez config.yaml depuis le dépôt, "
            f"ou indiquez-le avec --config ou {ENV_CONFIG})"
        ),
    )
    return _ConfigReader(path, document).config(document.data, env)


_SECTIONS = "discourse community store paths sync cartography digest welcome schedule".split()


class _ConfigReader(Reader):
    """Walks the parsed YAML, checking each key against what it must be."""

    def __init__(self, path: Path, document: Document):
        super().__init__(str(path), document.lines, ConfigError)
        self.path = path

    def section(
        self, data: Any, keys: tuple[str, ...], allowed: set[str], required: bool = True
    ) -> dict[str, Any]:
        if data is None and not required:
            return {}
        if not isinstance(data, dict):
            if not keys:
                raise ConfigError(
                    f"{self.path} : le fichier doit contenir des clés (discourse:, community:, …)"
                )
            raise self.fail(keys, "section attendue (des clés en dessous)")
        for key in data:
            if str(key) not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(keys + (str(key),), f"clé inconnue (clés permises : {known})")
        return data

    def value(
        self,
        data: dict[str, Any],
        keys: tuple[str, ...],
        kind: str,
        *,
        default: Any = ...,
        check: Callable[[Any], object] | None = None,
    ) -> Any:
        """The value at `keys`, of the given kind, or `default`; `check` raises `BadValue`."""
        name = keys[-1]
        if name not in data or data[name] is None:
            if default is ...:
                raise self.fail(keys, f"valeur manquante ({KIND_WORDS[kind]} attendu)")
            return default
        value = data[name]
        ok = {
            "str": isinstance(value, str) and value.strip() != "",
            "name": isinstance(value, str | int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool) and value > 0,
            "rate": isinstance(value, int | float) and not isinstance(value, bool) and value >= 0,
        }[kind]
        if not ok:
            raise self.fail(keys, f"{KIND_WORDS[kind]} attendu, trouvé {shown(value)}")
        if kind == "name":
            value = str(value)
        if check is not None:
            self.read(keys, check, value)
        return value

    def config(self, data: Any, env: Mapping[str, str]) -> Config:
        top = self.section(data, (), {*_SECTIONS, HOOKS})
        d = self.section(
            top.get("discourse"),
            ("discourse",),
            {"url", "api_username", "timeout", "requests_per_minute", "site_settings"},
        )
        url = self.value(d, ("discourse", "url"), "str", check=check_url).rstrip("/")
        username = env.get(ENV_API_USERNAME) or self.value(d, ("discourse", "api_username"), "str")
        discourse = DiscourseConfig(
            url=url,
            api_username=username,
            api_key=env.get(ENV_API_KEY) or None,
            timeout=float(self.value(d, ("discourse", "timeout"), "number", default=30.0)),
            requests_per_minute=float(
                self.value(d, ("discourse", "requests_per_minute"), "rate", default=50.0)
            ),
            site_settings=self.site_settings(d.get("site_settings")),
        )

        c = self.section(
            top.get("community"),
            ("community",),
            {
                "name",
                "category",
                "group",
                "timezone",
                "locale",
                "facilitators_group",
                "subcategories",
            },
        )
        s = self.section(
            c.get("subcategories"),
            ("community", "subcategories"),
            {"toolbox", "cartography", "welcome", "announcements"},
            required=False,
        )
        defaults = Subcategories()
        subcategories = Subcategories(
            **{
                k: self.value(
                    s, ("community", "subcategories", k), "name", default=getattr(defaults, k)
                )
                for k in ("toolbox", "cartography", "welcome", "announcements")
            },
            written=frozenset(str(k) for k in s),
        )
        community = CommunityConfig(
            name=self.value(c, ("community", "name"), "str"),
            category=self.value(c, ("community", "category"), "name"),
            group=self.value(c, ("community", "group"), "str"),
            timezone=self.value(
                c, ("community", "timezone"), "str", default="America/Toronto", check=read_timezone
            ),
            locale=self.value(
                c, ("community", "locale"), "str", default="fr_CA", check=check_locale
            ),
            facilitators_group=self.value(
                c, ("community", "facilitators_group"), "str", default=""
            ),
            subcategories=subcategories,
        )

        base = self.path.parent
        st = self.section(top.get("store"), ("store",), {"path"}, required=False)
        store_path = base / self.value(st, ("store", "path"), "str", default="data/bridge.db")
        p = self.section(top.get("paths"), ("paths",), {"templates", "jobs"}, required=False)
        templates_dir = base / self.value(p, ("paths", "templates"), "str", default="templates")
        jobs_dir = base / self.value(p, ("paths", "jobs"), "str", default="jobs")

        sync = read_sync(self, top.get("sync"))
        cartography = self.cartography(top.get("cartography"))
        digest = self.digest(top.get("digest"))
        return Config(
            discourse=discourse,
            community=community,
            store_path=store_path,
            templates_dir=templates_dir,
            jobs_dir=jobs_dir,
            sync=sync,
            cartography=cartography,
            digest=digest,
            welcome=read_welcome(self, top.get("welcome"), check_url),
            schedule=read_schedule(self, top.get("schedule"), community.tz),
            webhooks=read_webhooks(self, top, env),
            source=self.path,
        )

    def digest(self, data: Any) -> DigestConfig:
        keys = ("digest",)
        section = self.section(data, keys, {"target", "quiet_week", "most_active"}, required=False)
        defaults = DigestConfig()
        quiet = self.value(
            section, keys + ("quiet_week",), "str", default=defaults.quiet_week, check=check_quiet
        )
        most_active = self.value(
            section,
            keys + ("most_active",),
            "number",
            default=defaults.most_active,
            check=check_count,
        )
        return DigestConfig(
            target=self.value(section, keys + ("target",), "name", default=defaults.target),
            quiet_week=quiet,
            most_active=int(most_active),
        )

    def site_settings(self, data: Any) -> SiteSettings:
        keys = ("discourse", "site_settings")
        defaults = SiteSettings()
        names = set(defaults.__dataclass_fields__)
        section = self.section(data, keys, names, required=False)
        values: dict[str, Any] = {}
        for name in sorted(names):
            default = getattr(defaults, name)
            if isinstance(default, bool):
                value = section.get(name, default)
                if not isinstance(value, bool):
                    raise self.fail(keys + (name,), f"true ou false attendu, trouvé {shown(value)}")
            else:
                value = self.value(section, keys + (name,), "rate", default=default)
                if value != int(value):
                    raise self.fail(keys + (name,), f"nombre entier attendu, trouvé {shown(value)}")
                value = int(value)
            values[name] = value
        return SiteSettings(**values)

    def cartography(self, data: Any) -> CartographyConfig:
        keys = ("cartography",)
        section = self.section(data, keys, {"labels", "required"}, required=False)
        labels = dict(DEFAULT_CARD_LABELS)
        raw_labels = self.section(
            section.get("labels"), keys + ("labels",), set(DEFAULT_CARD_LABELS), required=False
        )
        for name, aliases in raw_labels.items():
            here = keys + ("labels", str(name))
            if (
                not isinstance(aliases, list)
                or not aliases
                or not all(isinstance(a, str) and a.strip() for a in aliases)
            ):
                raise self.fail(here, f"liste de libellés attendue, trouvé {shown(aliases)}")
            # Added to the defaults, not in their place: « Territoire » keeps working.
            added = tuple(a.strip() for a in aliases)
            labels[str(name)] = added + tuple(
                a for a in DEFAULT_CARD_LABELS[str(name)] if a not in added
            )
        required = section.get("required", list(DEFAULT_CARD_REQUIRED))
        if not isinstance(required, list) or not all(r in DEFAULT_CARD_LABELS for r in required):
            raise self.fail(
                keys + ("required",),
                f"liste de champs attendue parmi {', '.join(DEFAULT_CARD_LABELS)}, "
                f"trouvé {shown(required)}",
            )
        return CartographyConfig(labels=labels, required=tuple(required))
