"""Discourse's text rules for titles and posts, ported line by line from its Ruby.

- `clean_title`: lib/text_cleaner.rb, `TextCleaner.clean_title` / `title_options` (what
  `Topic#before_validation` does to every title before any validation);
- `clean_raw`: lib/post_creator.rb `setup_post` and lib/post_revisor.rb `cleanup_whitespaces`
  (what every post's raw goes through, on creation and on edit, before any validation);
- `title_is_meaningful`, `body_is_meaningful`: lib/text_sentinel.rb, `title_sentinel` /
  `body_sentinel` and `valid?` (QualityTitleValidator, PostValidator#raw_quality);
- `sanitized_length`: lib/validators/stripped_length_validator.rb, `get_sanitized_value`;
- `title_emojis`: lib/validators/max_emojis_validator.rb (counted, not rendered: see
  docs/sandbox.md).

The bridge has its own copy of the rules it must respect (`bridge/limits.py`), written apart on
purpose: a shared implementation would make the sandbox agree with the bridge's mistakes.
"""

from __future__ import annotations

import re
import unicodedata

# TextCleaner's @@whitespaces_regexp: odd spaces become plain ones.
_ODD_SPACES = re.compile("[\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
ENTROPY_SCALE = 0.7
# Ruby's String#rstrip: ASCII whitespace and NUL only (Python's rstrip would take more).
_RUBY_RSTRIP = "\x00\t\n\v\f\r "


def clean_title(title: str, *, prettify: bool = True, allow_uppercase: bool = False) -> str:
    """TextCleaner.clean(title, title_options) for a site whose default locale is not "en"
    (so `remove_extraneous_space` is off, as on a French site)."""
    text = title
    if prettify:
        text = re.sub(r"!+", "!", text)
        text = re.sub(r"\?+", "?", text)
        if not allow_uppercase and text == text.upper():
            text = text.lower()
        # Ruby's split(" ", 2): leading whitespace skipped, the rest kept as it is.
        parts = text.split(None, 1)
        if parts and parts[0] == parts[0].lower():
            text = parts[0].capitalize() + (" " + parts[1] if len(parts) > 1 else "")
        text = re.sub(r"([^.])\.+(\s*)\Z", r"\1\2", text)
    text = re.sub(r" +", " ", text)
    text = _ODD_SPACES.sub(" ", text)
    return text.strip().replace("\u200b", "")


def clean_raw(raw: str) -> str:
    """`TextCleaner.normalize_whitespaces(raw).rstrip`: PostCreator#setup_post stores (and
    validates) a new post's raw so, and PostRevisor#cleanup_whitespaces an edit's, so a
    trailing newline never reaches the database and odd spaces become plain ones."""
    return _ODD_SPACES.sub(" ", raw).rstrip(_RUBY_RSTRIP)


def _entropy(text: str) -> int:
    """TextSentinel#entropy: the number of distinct bytes of the stripped text."""
    return len(set(text.strip().encode("utf-8")))


def _meaningful(text: str, min_entropy: int, max_word_length: int | None, uppercase: bool) -> bool:
    """TextSentinel#valid?: present, enough distinct bytes, one letter or digit, no endless
    word, and some lowercase (or caseless) letter unless `allow_uppercase_posts`."""
    if not text.strip():
        return False
    if _entropy(text) < min_entropy:
        return False
    if not any(ch.isalnum() for ch in text):
        return False
    if max_word_length is not None and re.search(rf"[^\W_]{{{max_word_length + 1},}}", text):
        return False
    if uppercase:
        return True
    letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
    return not letters or any(unicodedata.category(ch) in ("Ll", "Lo") for ch in letters)


def title_is_meaningful(
    title: str,
    *,
    min_topic_title_length: int,
    title_min_entropy: int,
    title_max_word_length: int,
    allow_uppercase: bool,
) -> bool:
    """TextSentinel.title_sentinel(title).valid?"""
    if min_topic_title_length > title_min_entropy:
        entropy = title_min_entropy
    else:
        entropy = int(min_topic_title_length * ENTROPY_SCALE)
    return _meaningful(title, entropy, title_max_word_length, allow_uppercase)


def body_is_meaningful(
    raw: str,
    *,
    private_message: bool,
    body_min_entropy: int,
    min_post_length: int,
    min_personal_message_post_length: int,
    allow_uppercase: bool,
) -> bool:
    """TextSentinel.body_sentinel(raw, private_message:).valid?"""
    entropy = body_min_entropy
    if private_message:
        entropy = int(entropy * (min_personal_message_post_length / min_post_length))
        if entropy > min_personal_message_post_length:
            entropy = int(min_personal_message_post_length * ENTROPY_SCALE)
    elif entropy > min_post_length:
        entropy = int(min_post_length * ENTROPY_SCALE)
    return _meaningful(raw, entropy, None, allow_uppercase)


def sanitized_length(raw: str) -> int:
    """StrippedLengthValidator.get_sanitized_value(raw).length: HTML comments out, `:emoji:`
    as one character, `...` as `…`, `,,,` as `,`, then stripped."""
    value = re.sub(r"<!--(.*?)-->", "", raw)
    value = re.sub(r":\w+(:\w+)?:", "X", value)
    value = re.sub(r"\.{2,}", "…", value)
    value = re.sub(r",{2,}", ",", value)
    return len(value.strip())


# Pictographs and their modifiers, as Emoji.unicode_unescape would turn them into images.
_UNICODE_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]\ufe0f?"
    "(?:\u200d[\U0001f000-\U0001faff\u2600-\u27bf]\ufe0f?)*"
)
_CODE_EMOJI = re.compile(r":[a-z0-9_+-]+(?::t[1-6])?:")


def title_emojis(title: str) -> int:
    """How many emojis MaxEmojisValidator would count in a title: `:code:` and pictographs."""
    return len(_CODE_EMOJI.findall(title)) + len(_UNICODE_EMOJI.findall(title))
