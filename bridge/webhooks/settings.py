"""The `webhooks:` section of `config.yaml`, and the webhook secret from the environment.

Absent, the bridge listens for nothing. Present (even empty), `bridge webhooks` (and, later,
`bridge run`) listens at `listen`. The secret, which Discourse uses to sign each event, comes
only from DISCOURSE_WEBHOOK_SECRET: like the API key, it never goes in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.errors import ConfigError
from bridge.yamlfile import BadValue

if TYPE_CHECKING:
    from bridge.config import _ConfigReader

ENV_WEBHOOK_SECRET = "DISCOURSE_WEBHOOK_SECRET"
SECTION = "webhooks"
DEFAULT_LISTEN = "127.0.0.1:8765"
# Discourse's largest payload is a post of max_post_length (32,000 characters by default) with
# its cooked HTML: far below 1 MB. Anything bigger is not Discourse.
DEFAULT_MAX_BODY_BYTES = 1_000_000
MAX_BODY_RANGE = (1_000, 100_000_000)


@dataclass(frozen=True)
class WebhooksConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Filled from the environment only; never printed (repr=False).
    secret: str | None = field(default=None, repr=False)

    @property
    def listen(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def require_secret(self) -> str:
        """The secret, or a ConfigError saying how to provide it."""
        secret = self.secret
        if not secret:
            raise ConfigError(
                f"{ENV_WEBHOOK_SECRET} n'est pas défini dans l'environnement : les webhooks en "
                "ont besoin pour vérifier que chaque événement vient de Discourse (le même secret "
                "que dans Admin > Webhooks, jamais dans config.yaml)"
            )
        # Discourse signs with the secret exactly as typed; a pasted newline would refuse all.
        if secret != secret.strip() or not secret.isprintable():
            raise ConfigError(
                f"{ENV_WEBHOOK_SECRET} contient des espaces en début ou en fin, ou un retour à la "
                "ligne : recopiez le secret tel qu'il est dans Admin > Webhooks"
            )
        return secret


def read_webhooks(
    reader: _ConfigReader, top: Mapping[str, Any], env: Mapping[str, str]
) -> WebhooksConfig | None:
    """The `webhooks:` section, None when the file has none."""
    if SECTION not in top:
        return None
    keys = (SECTION,)
    section = reader.section(top[SECTION], keys, {"listen", "max_body_bytes"}, required=False)
    host, port = reader.read(
        keys + ("listen",),
        parse_listen,
        reader.value(section, keys + ("listen",), "str", default=DEFAULT_LISTEN),
    )
    size = reader.value(
        section,
        keys + ("max_body_bytes",),
        "number",
        default=DEFAULT_MAX_BODY_BYTES,
        check=_check_size,
    )
    return WebhooksConfig(
        host=host,
        port=port,
        max_body_bytes=int(size),
        secret=env.get(ENV_WEBHOOK_SECRET) or None,
    )


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (`[::1]:8765` for IPv6) as a host and a port; port 0 picks a free one."""
    host, colon, port = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise BadValue(
            f"adresse:port attendu, comme 127.0.0.1:8765 (port de 1 à 65535), trouvé « {value} »"
        )
    return host, int(port)


def _check_size(value: float) -> None:
    low, high = MAX_BODY_RANGE
    if not isinstance(value, int) or not low <= value <= high:
        raise BadValue(
            f"un nombre entier d'octets de {low:_} à {high:_} attendu, trouvé « {value} »".replace(
                "_", " "
            )
        )
