"""What Discourse will refuse or rewrite, checked before the publisher sends a draft.

Discourse compares a post's *visible* length with its minimum (HTML comments removed, so the
bridge's hidden marker does not count; an `:emoji:` counts as one character; `...` as one) and
its raw length, marker included, with `max_post_length`. It rewrites titles before checking
them (`TextCleaner.clean_title`) and compares titles case-insensitively. The limits are the
site's settings (`discourse.site_settings` in config.yaml, Discourse's defaults otherwise).
"""

from __future__ import annotations

import re

from bridge.config import SiteSettings
from bridge.drafts import Draft, DraftKind

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_EMOJI_CODE = re.compile(r":\w+(?::\w+)?:")
_TITLE_EMOJI = re.compile(r":[a-z0-9_+-]+(?::t[1-6])?:|[\U0001f000-\U0001faff\u2600-\u27bf]")
_ODD_SPACES = re.compile("[\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def visible_length(raw: str) -> int:
    """The length Discourse compares with the minimum."""
    text = _COMMENT.sub("", raw)
    text = _EMOJI_CODE.sub("X", text)
    text = re.sub(r"\.{2,}", "…", text)
    text = re.sub(r",{2,}", ",", text)
    return len(text.strip())


def clean_title(title: str, settings: SiteSettings | None = None) -> str:
    """The title as Discourse will store it (for a site whose language is not English)."""
    settings = settings or SiteSettings()
    text = title
    if settings.title_prettify:
        text = re.sub(r"!+", "!", text)
        text = re.sub(r"\?+", "?", text)
        if not settings.allow_uppercase_posts and text.upper() == text:
            text = text.lower()
        words = text.split(None, 1)
        if words and words[0] == words[0].lower():
            text = " ".join([words[0].capitalize(), *words[1:]])
        text = re.sub(r"([^.])\.+(\s*)\Z", r"\1\2", text)
    text = _ODD_SPACES.sub(" ", re.sub(r" +", " ", text))
    return text.strip().replace("\u200b", "")


def clean_raw(raw: str) -> str:
    """A post's text as Discourse keeps it (lib/post_revisor.rb, PostRevisor#cleanup_whitespaces:
    TextCleaner.normalize_whitespaces, then trailing whitespace cut)."""
    return _ODD_SPACES.sub(" ", raw).rstrip()


def same_title(a: str, b: str, settings: SiteSettings | None = None) -> bool:
    """Whether Discourse would take two titles for the same one (its uniqueness check)."""
    return clean_title(a, settings).lower() == clean_title(b, settings).lower()


def refusal(draft: Draft, raw: str, settings: SiteSettings, *, first_post: bool) -> str | None:
    """Why Discourse would refuse this draft, in French, or None. `raw` is the text as sent
    (with its marker); `first_post` says whether it is (or edits) a topic's first post."""
    if draft.kind is DraftKind.STATUS:
        return None
    pm = draft.kind is DraftKind.PRIVATE_MESSAGE
    if pm:
        minimum, setting = settings.min_personal_message_post_length, "min_personal_message_post"
    elif first_post:
        minimum, setting = settings.min_first_post_length, "min_first_post"
    else:
        minimum, setting = settings.min_post_length, "min_post"
    visible = visible_length(raw)
    if visible < minimum:
        return (
            f"message trop court : {visible} caractère(s) visible(s), Discourse en exige au moins "
            f"{minimum} ({setting}_length) ; il n'a pas été envoyé"
        )
    # PostCreator#setup_post and PostRevisor#cleanup_whitespaces cut the trailing newline
    # (the marker's) before StrippedLengthValidator counts: the stored text is what counts.
    length = len(clean_raw(raw))
    if length > settings.max_post_length:
        return (
            f"message trop long : {length} caractères (marque cachée comprise), Discourse en "
            f"accepte au plus {settings.max_post_length} (max_post_length) ; il n'a pas été envoyé"
        )
    if draft.creates_topic:
        return _title_refusal(clean_title(draft.title or "", settings), settings, pm)
    return None


def _title_refusal(title: str, settings: SiteSettings, pm: bool) -> str | None:
    minimum = settings.min_personal_message_title_length if pm else settings.min_topic_title_length
    if len(title) < minimum:
        return (
            f"titre trop court : « {title} » a {len(title)} caractère(s), Discourse en exige au "
            f"moins {minimum} ; il n'a pas été envoyé"
        )
    if len(title) > settings.max_topic_title_length:
        return (
            f"titre trop long : {len(title)} caractères, Discourse en accepte au plus "
            f"{settings.max_topic_title_length} ; il n'a pas été envoyé"
        )
    emojis = len(_TITLE_EMOJI.findall(title))
    if emojis > settings.max_emojis_in_title:
        return (
            f"titre refusé : « {title} » a {emojis} émojis, Discourse en accepte au plus "
            f"{settings.max_emojis_in_title} (max_emojis_in_title) ; il n'a pas été envoyé"
        )
    return None
