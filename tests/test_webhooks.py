"""The webhook endpoint as Discourse meets it: sizes, signatures, JSON, which events wake a job;
and the waker that turns a burst of events into one run."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import SHARED
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reliability import WEBHOOK, Case, cases

from bridge.config import load_config
from bridge.errors import ConfigError
from bridge.sandbox.webhook import webhook_delivery
from bridge.webhooks import ACCEPTED_EVENTS, Waker, WebhookEvent, make_app, signature
from bridge.webhooks import app as app_module
from bridge.webhooks.server import Endpoint

VECTOR_PATH = SHARED / "discourse-api" / "examples" / "webhook_ping_test_vector.json"
SECRET = "un-secret-de-webhook-2ise"
LIMIT = 4096
STATUSES = {200, 202, 400, 401, 413}


class CountingStream(io.BytesIO):
    """wsgi.input that remembers how many bytes the app read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        piece = super().read(size)
        self.taken += len(piece)
        return piece


def call(
    app: Callable[..., Any],
    body: bytes,
    headers: dict[str, str],
    *,
    method: str = "POST",
    content_length: str | None = None,
) -> tuple[int, str, CountingStream]:
    stream = CountingStream(body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
        "wsgi.input": stream,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    seen: list[str] = []
    out = b"".join(app(environ, lambda status, _headers: seen.append(status)))
    return int(seen[0].split()[0]), out.decode("utf-8"), stream


@pytest.fixture
def events() -> list[WebhookEvent]:
    return []


@pytest.fixture
def app(events: list[WebhookEvent]) -> Callable[..., Any]:
    return make_app(SECRET, LIMIT, events.append)


def delivery(name: str, kind: str = "post", payload: Any = None) -> tuple[dict[str, str], bytes]:
    return webhook_delivery(SECRET, kind, name, payload or {"id": 7, "topic_id": 3}, event_id=42)


# --- the test vector -----------------------------------------------------------------------


def test_discourses_ping_test_vector_verifies() -> None:
    if not VECTOR_PATH.exists():
        pytest.skip("shared/discourse-api is not next to the repository")
    vector = json.loads(VECTOR_PATH.read_text(encoding="utf-8"))
    body = vector["raw_body"].encode("utf-8")
    assert len(body) == vector["content_length"]
    expected = vector["expected_headers"]["X-Discourse-Event-Signature"]
    assert signature(vector["secret"].encode("utf-8"), body) == expected
    # The sandbox's delivery is Discourse's, byte for byte.
    headers, built = webhook_delivery(vector["secret"], "ping", "ping")
    assert built == body
    assert headers["X-Discourse-Event-Signature"] == expected

    seen: list[WebhookEvent] = []
    app = make_app(vector["secret"], LIMIT, seen.append)
    status, _, _ = call(app, body, vector["expected_headers"])
    assert status == 200
    assert seen == [WebhookEvent(type="ping", name="ping")]


def test_the_vector_with_another_secret_is_refused() -> None:
    if not VECTOR_PATH.exists():
        pytest.skip("shared/discourse-api is not next to the repository")
    vector = json.loads(VECTOR_PATH.read_text(encoding="utf-8"))
    seen: list[WebhookEvent] = []
    app = make_app(vector["secret"] + "x", LIMIT, seen.append)
    status, _, _ = call(app, vector["raw_body"].encode(), vector["expected_headers"])
    assert (status, seen) == (401, [])


# --- each answer ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACCEPTED_EVENTS))
def test_each_event_the_bridge_follows_is_accepted_and_handed_on(
    app: Callable[..., Any], events: list[WebhookEvent], name: str
) -> None:
    kind = "group_user" if "group" in name else name.split("_")[0]
    headers, body = delivery(name, kind)
    status, text, _ = call(app, body, headers)
    assert (status, text) == (200, "accepté\n")
    assert events == [WebhookEvent(type=kind, name=name, id="42")]


@pytest.mark.parametrize("case", cases(WEBHOOK, "webhook-ignored"))
@pytest.mark.parametrize(
    ("kind", "name"),
    [("like", "post_liked"), ("notification", "notification_created"), ("topic", "")],
)
def test_other_events_are_ignored_with_a_2xx_so_discourse_does_not_retry(
    case: Case, app: Callable[..., Any], events: list[WebhookEvent], kind: str, name: str
) -> None:
    headers, body = delivery(name, kind)
    status, text, _ = call(app, body, headers)
    assert status == 202
    assert text.startswith("ignoré")
    assert events == []


@pytest.mark.parametrize("case", cases(WEBHOOK, "webhook-signature"))
@pytest.mark.parametrize(
    "signature_header",
    [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "sha256=zz", "sha256=é"],
)
def test_a_missing_or_wrong_signature_is_401(
    case: Case, app: Callable[..., Any], events: list[WebhookEvent], signature_header: str | None
) -> None:
    headers, body = delivery("post_created")
    del headers["X-Discourse-Event-Signature"]
    if signature_header is not None:
        headers["X-Discourse-Event-Signature"] = signature_header
    status, _, _ = call(app, body, headers)
    assert (status, events) == (401, [])


@pytest.mark.parametrize("case", cases(WEBHOOK, "webhook-other-body"))
def test_a_signature_for_another_body_is_401(
    case: Case, app: Callable[..., Any], events: list[WebhookEvent]
) -> None:
    headers, body = delivery("post_created")
    status, _, _ = call(app, body.replace(b"7", b"8"), headers)
    assert (status, events) == (401, [])


def test_the_signature_is_read_in_either_case(app: Callable[..., Any]) -> None:
    headers, body = delivery("post_created")
    headers["X-Discourse-Event-Signature"] = headers["X-Discourse-Event-Signature"].upper()
    headers["X-Discourse-Event-Signature"] = "sha256=" + headers["X-Discourse-Event-Signature"][7:]
    assert call(app, body, headers)[0] == 200


@pytest.mark.parametrize("case", cases(WEBHOOK, "webhook-bad-json"))
@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe\x00", b"[" * 100_000, b""])
def test_signed_bad_json_is_400(
    case: Case, app: Callable[..., Any], events: list[WebhookEvent], body: bytes
) -> None:
    headers, _ = delivery("post_created")
    headers["X-Discourse-Event-Signature"] = signature(SECRET.encode(), body)
    status, _, _ = call(make_app(SECRET, 1_000_000, events.append), body, headers)
    assert (status, events) == (400, [])


@pytest.mark.parametrize("body", [b"[]", b'"post"', b"42", b"null"])
def test_signed_json_that_is_not_an_object_is_400(app: Callable[..., Any], body: bytes) -> None:
    headers, _ = delivery("post_created")
    headers["X-Discourse-Event-Signature"] = signature(SECRET.encode(), body)
    assert call(app, body, headers)[0] == 400


@pytest.mark.parametrize("case", cases(WEBHOOK, "webhook-too-big"))
def test_a_body_over_the_limit_is_413_and_not_read(
    case: Case, app: Callable[..., Any], events: list[WebhookEvent]
) -> None:
    headers, _ = delivery("post_created")
    body = json.dumps({"post": {"raw": "x" * (LIMIT * 4)}}).encode()
    headers["X-Discourse-Event-Signature"] = signature(SECRET.encode(), body)
    status, _, stream = call(app, body, headers)
    assert (status, stream.taken, events) == (413, 0, [])


def test_a_body_without_length_is_read_one_byte_past_the_limit_at_most(
    events: list[WebhookEvent],
) -> None:
    app = make_app(SECRET, LIMIT, events.append)
    headers, _ = delivery("post_created")
    stream = CountingStream(b"{" + b" " * (LIMIT * 10) + b"}")
    environ = {
        "REQUEST_METHOD": "POST",
        "wsgi.input": stream,
        "wsgi.input_terminated": True,
        "HTTP_X_DISCOURSE_EVENT": "post_created",
    }
    statuses: list[str] = []
    list(app(environ, lambda status, _h: statuses.append(status)))
    assert statuses == ["413 Content Too Large"]
    assert stream.taken == LIMIT + 1


def test_a_body_at_the_limit_is_accepted(app: Callable[..., Any]) -> None:
    headers, _ = delivery("post_created")
    start = b'{"post":{"raw":"'
    body = start + b"x" * (LIMIT - len(start) - 3) + b'"}}'
    assert len(body) == LIMIT
    headers["X-Discourse-Event-Signature"] = signature(SECRET.encode(), body)
    assert call(app, body, headers)[0] == 200


def test_a_longer_stream_than_its_length_is_read_to_its_length_only(
    app: Callable[..., Any],
) -> None:
    headers, body = delivery("post_created")
    status, _, stream = call(app, body + b"x" * LIMIT * 3, headers, content_length=str(len(body)))
    assert (status, stream.taken) == (200, len(body))


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "٣"])
def test_a_bad_content_length_is_400_and_nothing_is_read(
    app: Callable[..., Any], length: str
) -> None:
    headers, body = delivery("post_created")
    status, _, stream = call(app, body, headers, content_length=length)
    assert (status, stream.taken) == (400, 0)


def test_a_wrong_signature_never_reaches_the_json_parser(
    app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    real = json.loads
    monkeypatch.setattr(app_module.json, "loads", lambda b: parsed.append(b) or real(b))
    headers, body = delivery("post_created")
    headers["X-Discourse-Event-Signature"] = "sha256=" + "a" * 64
    assert call(app, body, headers)[0] == 401
    assert parsed == []
    # The same request, signed: parsed once.
    headers, body = delivery("post_created")
    assert call(app, body, headers)[0] == 200
    assert parsed == [body]


def test_other_methods_are_405(app: Callable[..., Any]) -> None:
    status, text, stream = call(app, b"", {}, method="GET")
    assert status == 405
    assert stream.taken == 0


def test_a_failing_callback_is_a_500_not_a_crash() -> None:
    def broken(event: WebhookEvent) -> None:
        raise RuntimeError("boom")

    headers, body = delivery("post_created")
    assert call(make_app(SECRET, LIMIT, broken), body, headers)[0] == 500


def test_an_empty_secret_is_refused_at_once() -> None:
    with pytest.raises(ValueError):
        make_app("", LIMIT, lambda e: None)


# --- fuzz ----------------------------------------------------------------------------------

HEADER_NAMES = [
    "X-Discourse-Event-Signature",
    "X-Discourse-Event",
    "X-Discourse-Event-Type",
    "X-Discourse-Event-Id",
    "Content-Type",
]


@pytest.mark.parametrize("case", cases(WEBHOOK, "webhook-fuzz"))
@pytest.mark.slow
@settings(
    max_examples=1500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    body=st.one_of(
        st.binary(max_size=LIMIT * 2),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
            lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        ).map(lambda v: json.dumps(v).encode()),
    ),
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=200)),
    sign=st.booleans(),
    content_length=st.one_of(st.none(), st.text(max_size=12)),
    name=st.sampled_from([*sorted(ACCEPTED_EVENTS), "ping", "post_liked", ""]),
)
def test_no_request_crashes_the_endpoint(
    case: Case,
    body: bytes,
    headers: dict[str, str],
    sign: bool,
    content_length: str | None,
    name: str,
) -> None:
    seen: list[WebhookEvent] = []
    app = make_app(SECRET, LIMIT, seen.append)
    headers = dict(headers)
    headers.setdefault("X-Discourse-Event", name)
    if sign:
        headers["X-Discourse-Event-Signature"] = signature(SECRET.encode(), body)
    status, _, stream = call(app, body, headers, content_length=content_length)
    event(f"status {status}")
    assert status in STATUSES
    assert stream.taken <= LIMIT + 1
    assert (status == 200) == bool(seen)
    if not sign:
        assert status != 200 or headers.get("X-Discourse-Event-Signature") == signature(
            SECRET.encode(), body
        )


# --- over HTTP, with waitress ----------------------------------------------------------------


@pytest.fixture
def served(events: list[WebhookEvent]) -> Iterator[Endpoint]:
    endpoint = Endpoint(make_app(SECRET, LIMIT, events.append), "127.0.0.1", 0, LIMIT).start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def test_over_http_each_status(served: Endpoint, events: list[WebhookEvent]) -> None:
    headers, body = delivery("post_created")
    assert requests.post(served.url, data=body, headers=headers, timeout=5).status_code == 200
    headers, body = delivery("post_liked", "like")
    assert requests.post(served.url, data=body, headers=headers, timeout=5).status_code == 202
    bad = dict(headers, **{"X-Discourse-Event-Signature": "sha256=00"})
    assert requests.post(served.url, data=body, headers=bad, timeout=5).status_code == 401
    big = b"{" + b" " * LIMIT + b"}"
    assert requests.post(served.url, data=big, headers=headers, timeout=5).status_code == 413
    headers["X-Discourse-Event-Signature"] = signature(SECRET.encode(), b"{oops")
    assert requests.post(served.url, data=b"{oops", headers=headers, timeout=5).status_code == 400
    assert [e.name for e in events] == ["post_created"]


def test_over_http_a_chunked_body_over_the_limit_is_413(served: Endpoint) -> None:
    headers, _ = delivery("post_created")
    chunks = iter([b"{", b" " * LIMIT, b"}"])
    answer = requests.post(served.url, data=chunks, headers=headers, timeout=5)
    assert answer.status_code == 413


def test_a_stopped_endpoint_no_longer_listens(events: list[WebhookEvent]) -> None:
    endpoint = Endpoint(make_app(SECRET, LIMIT, events.append), "127.0.0.1", 0, LIMIT).start()
    url = endpoint.url
    endpoint.stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(url, data=b"{}", timeout=5)


def test_a_port_in_use_is_one_french_line(served: Endpoint) -> None:
    port = int(served.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(Exception) as info:
        Endpoint(make_app(SECRET, LIMIT, lambda e: None), "127.0.0.1", port, LIMIT)
    assert str(info.value) == (
        f"webhooks.listen 127.0.0.1:{port} : adresse déjà utilisée (une autre passerelle, "
        "ou un autre service, y écoute)"
    )


# --- the waker -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_burst_of_wake_ups_gives_one_run_after_the_quiet() -> None:
    clock, runs = Clock(), []
    waker = Waker(lambda _: runs.append(clock.t), quiet=2.0, longest=30.0, clock=clock)
    assert waker.due_in() is None
    for step in (0.0, 0.5, 1.0, 1.5):  # topic_created, post_created, … within 1.5 s
        clock.t = 1000.0 + step
        waker.wake()
    assert waker.due_in() == pytest.approx(2.0)
    clock.t = 1003.4
    assert not waker.run_due()
    clock.t = 1003.5
    assert waker.run_due()
    assert not waker.run_due()
    assert runs == [1003.5]
    assert waker.due_in() is None


def test_the_run_gets_the_reasons_of_its_burst_only() -> None:
    clock = Clock()
    given: list[frozenset[str]] = []
    waker = Waker(given.append, quiet=1.0, clock=clock)
    for reason in ("topic_created", "post_created", "post_created", ""):
        waker.wake(reason)
    clock.t += 1.0
    assert waker.run_due()
    waker.wake("post_destroyed")
    clock.t += 1.0
    assert waker.run_due()
    assert given == [frozenset({"topic_created", "post_created"}), frozenset({"post_destroyed"})]


def test_a_steady_stream_still_runs_after_the_longest_wait() -> None:
    clock, runs = Clock(), []
    waker = Waker(lambda _: runs.append(clock.t), quiet=2.0, longest=10.0, clock=clock)
    for _ in range(20):  # one event a second, never quiet
        waker.wake()
        waker.run_due()
        clock.t += 1.0
    assert runs == [1010.0]


def test_a_wake_up_during_a_run_gives_exactly_one_more_run() -> None:
    clock = Clock()
    runs: list[float] = []

    def job(reasons: frozenset[str]) -> None:
        runs.append(clock.t)
        if len(runs) == 1:
            # Events arrive while the sync reads Discourse: they ask for another run, but it
            # does not start inside this one.
            waker.wake()
            waker.wake()
            assert not waker.run_due()

    waker = Waker(job, quiet=1.0, clock=clock)
    waker.wake()
    clock.t += 1.0
    assert waker.run_due()
    clock.t += 1.0
    assert waker.run_due()
    assert not waker.run_due()
    assert runs == [1001.0, 1002.0]


def test_a_failing_run_does_not_stop_the_next(caplog: pytest.LogCaptureFixture) -> None:
    clock, runs = Clock(), []

    def job(reasons: frozenset[str]) -> None:
        runs.append(clock.t)
        raise RuntimeError("Discourse est indisponible")

    waker = Waker(job, quiet=1.0, clock=clock, name="sync")
    for _ in range(2):
        waker.wake()
        clock.t += 1.0
        assert waker.run_due()
    assert runs == [1001.0, 1002.0]
    assert "la tâche sync a échoué" in caplog.text


def test_the_thread_runs_one_job_for_a_burst_and_never_two_at_once() -> None:
    running = threading.Semaphore(1)
    overlapped: list[bool] = []
    done = threading.Event()
    release = threading.Event()
    runs: list[int] = []

    def job(reasons: frozenset[str]) -> None:
        overlapped.append(not running.acquire(blocking=False))
        runs.append(1)
        if len(runs) == 1:
            release.wait(10)
        running.release()
        if len(runs) == 2:
            done.set()

    waker = Waker(job, quiet=0.01, longest=1.0).start()
    try:
        for _ in range(50):
            waker.wake()
        # While the first run holds on, more events come: one more run, after it.
        deadline = threading.Event()
        while not waker.running and not deadline.wait(0.01):
            pass
        for _ in range(50):
            waker.wake()
        release.set()
        assert done.wait(10)
    finally:
        assert waker.stop(10)
    assert runs == [1, 1]
    assert overlapped == [False, False]


def test_stopping_lets_the_run_under_way_finish() -> None:
    started, finish, finished = threading.Event(), threading.Event(), threading.Event()

    def job(reasons: frozenset[str]) -> None:
        started.set()
        finish.wait(10)
        finished.set()

    waker = Waker(job, quiet=0.0).start()
    waker.wake()
    assert started.wait(10)
    threading.Timer(0.05, finish.set).start()
    assert waker.stop(10)
    assert finished.is_set()


# --- the config section --------------------------------------------------------------------

BASE = """\
discourse:
  url: https://passerelles.encommun.io
  api_username: animation-2ise
community:
  name: CdP 2isE
  category: innovation-sociale-estrie
  group: cdp-2ise
"""


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_config(path, env=env or {})


def test_no_section_means_no_webhooks(tmp_path: Path) -> None:
    assert load(tmp_path, "").webhooks is None


def test_the_section_with_its_defaults_and_the_secret_from_the_environment(
    tmp_path: Path,
) -> None:
    hooks = load(tmp_path, "webhooks:\n", {"DISCOURSE_WEBHOOK_SECRET": SECRET}).webhooks
    assert (hooks.host, hooks.port, hooks.max_body_bytes) == ("127.0.0.1", 8765, 1_000_000)
    assert hooks.require_secret() == SECRET
    assert SECRET not in repr(hooks)
    hooks = load(tmp_path, "webhooks:\n  listen: '[::1]:9000'\n  max_body_bytes: 2000\n").webhooks
    assert (hooks.host, hooks.port, hooks.max_body_bytes, hooks.listen) == (
        "::1",
        9000,
        2000,
        "[::1]:9000",
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("webhooks:\n  listen: 8765\n", "webhooks.listen : un texte attendu"),
        ("webhooks:\n  listen: localhost\n", "webhooks.listen : adresse:port attendu"),
        ("webhooks:\n  listen: 'h:99999'\n", "webhooks.listen : adresse:port attendu"),
        ("webhooks:\n  max_body_bytes: 12\n", "webhooks.max_body_bytes : un nombre entier"),
        ("webhooks:\n  max_body_bytes: 1500.5\n", "webhooks.max_body_bytes : un nombre entier"),
        ("webhooks:\n  secret: abc\n", "webhooks.secret : clé inconnue"),
        ("webhooks: oui\n", "webhooks : section attendue"),
    ],
)
def test_a_bad_section_is_one_line_naming_the_key(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    assert words in message, message


@pytest.mark.parametrize("secret", [None, "", " s3cr3t-hook", "s3cr3t-hook\n"])
def test_a_missing_or_mangled_secret_is_a_config_error(tmp_path: Path, secret: str | None) -> None:
    env = {} if secret is None else {"DISCOURSE_WEBHOOK_SECRET": secret}
    hooks = load(tmp_path, "webhooks:\n", env).webhooks
    with pytest.raises(ConfigError) as info:
        hooks.require_secret()
    assert "DISCOURSE_WEBHOOK_SECRET" in str(info.value)
    assert "\n" not in str(info.value)
    if secret and secret.strip():
        assert secret.strip() not in str(info.value)


def test_the_log_shows_neither_the_secret_nor_the_body(
    app: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    payload = {"id": 7, "raw": "Un message de membre, privé à la communauté"}
    for name in ("post_created", "post_liked"):
        headers, body = delivery(name, "post", payload)
        call(app, body, headers)
    headers["X-Discourse-Event-Signature"] = "sha256=" + "1" * 64
    call(app, body, headers)
    call(
        app,
        b"{" * 10,
        dict(headers, **{"X-Discourse-Event-Signature": signature(SECRET.encode(), b"{" * 10)}),
    )
    text = caplog.text
    assert "Webhook reçu : post_created (n° 42)" in text
    for leak in (SECRET, "Un message de membre", "sha256="):
        assert leak not in text
