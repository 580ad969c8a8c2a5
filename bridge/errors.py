"""The bridge's exceptions: one root, a few kinds, each message one plain line."""

from __future__ import annotations

import errno

# What the operating system says, in French: Python gives its messages in English.
_OS_WORDS = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EISDIR: "c'est un dossier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EEXIST: "existe déjà",
    errno.EDQUOT: "quota de disque dépassé",
}


def os_error_words(exc: OSError) -> str:
    """An OS error in French words, for one line meant for people."""
    if exc.errno in _OS_WORDS:
        return _OS_WORDS[exc.errno]
    return f"erreur système {exc.errno}" if exc.errno else str(exc)


class BridgeError(Exception):
    """Something the bridge could not do; the message is meant for people."""

    exit_code = 1


class UsageError(BridgeError):
    """Bad input from the people running the bridge: config, templates, job files, keys."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration file or the environment is wrong."""


class TemplateError(UsageError):
    """A template cannot be read or rendered."""


class JobFileError(UsageError):
    """An announcement job file is invalid."""


class AuthError(UsageError):
    """Discourse refused the API key (wrong key, wrong account or missing scope)."""

    def __init__(self, message: str, *, on_write: bool = False):
        super().__init__(message)
        # Refused on a write after reads went through: this action is not allowed to this
        # account (a pin needs a moderator), rather than a wrong key.
        self.on_write = on_write


class DiscourseError(BridgeError):
    """Discourse answered with an error the bridge cannot work around."""


class RejectedError(DiscourseError):
    """Discourse refused a write (HTTP 422); the message holds Discourse's words."""


class HeldForApproval(DiscourseError):
    """Discourse queued the post for a moderator's approval: written, but not published."""


class NotFoundError(DiscourseError):
    """Discourse has no such resource (HTTP 404)."""


class UnknownCategory(NotFoundError):
    """A category the bridge was told to read is not on the site, or hidden from its account."""

    def __init__(self, message: str, wanted: str):
        super().__init__(message)
        self.wanted = wanted


class GroupUnreadable(UsageError):
    """A group's members cannot be read: no such group, or hidden from the bridge's account."""

    def __init__(self, message: str, group: str):
        super().__init__(message)
        self.group = group


class MalformedAnswer(DiscourseError):
    """Discourse (or what stands in front of it) answered 200 with something unreadable: not
    JSON, cut short, empty, too large, or missing what the bridge relies on."""


class UnavailableError(DiscourseError):
    """Discourse could not be reached, or kept failing, after the allowed retries."""


class WriteOutcomeUnknown(DiscourseError):
    """A write was sent but no answer came back: it may or may not have happened."""


class Stopping(BridgeError):
    """The service is shutting down: no new request or draft starts."""

    def __init__(self) -> None:
        super().__init__("interrompue : arrêt du service demandé")


class StoreError(BridgeError):
    """The local store cannot be opened or is in an unexpected state."""
