"""`Sandbox`: the world served over HTTP on loopback, with Discourse's routes, auth and faults.

One ThreadingHTTPServer on 127.0.0.1 and a free port, in a daemon thread. Each request is
recorded, may be hit by a configured fault (dropped, answered 5xx, crashed after its write),
then authenticated, counted against the API budget, routed and answered in JSON with exactly
`application/json; charset=utf-8` (pydiscourse refuses anything else).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from . import categories, lists, payloads, people, posting, rules
from .faults import Faults, malformed_body
from .model import User
from .rules import ApiError
from .seed import STAFF_KEY, STAFF_USERNAME, seed_world
from .world import World

JSON_TYPE = "application/json; charset=utf-8"
Viewer = User | None  # the acting user; None without a key
Args = dict[str, Any]  # the route's named groups
Form = dict[str, list[str]]  # query and body parameters, Rails-style names


# Routes: method, path pattern (without ".json"), handler name, and the granular API scopes
# that allow it, from app/models/api_key_scope.rb `default_mappings` (a key with `global:read`
# may also make every GET). An empty tuple: in no scope, so only global keys may.
_ROUTES: list[tuple[str, re.Pattern[str], str, tuple[str, ...]]] = [
    (m, re.compile(p), h, s)
    for m, p, h, s in [
        ("GET", r"/categories", "categories", ("categories:list",)),
        ("GET", r"/site", "site", ("wordpress:publishing",)),
        ("GET", r"/c/(?P<id>[^/]+)/show", "category_show", ("categories:show",)),
        ("GET", r"/c/(?P<spec>.+?)/find_by_slug", "category_find_by_slug", ()),
        (
            "GET",
            r"/c/(?P<spec>.+?)(?:/l/(?P<filter>latest|top))?",
            "category_topics",
            ("topics:read_lists",),
        ),
        ("GET", r"/t/external_id/(?P<external_id>[^/]+)", "external_id", ("topics:read",)),
        ("GET", r"/t/(?P<id>\d+)/posts", "topic_posts", ("topics:read",)),
        (
            "GET",
            r"/t/(?P<slug>[^/]+)/(?P<id>\d+)(?:/(?P<near>\d+))?",
            "topic",
            ("topics:read", "wordpress:publishing"),
        ),
        ("GET", r"/t/(?P<id>\d+)", "topic", ("topics:read", "wordpress:publishing")),
        ("GET", r"/posts/(?P<id>\d+)", "post", ()),
        ("GET", r"/groups/(?P<name>[^/]+)/members", "members", ("groups:manage_groups",)),
        ("GET", r"/groups/(?P<name>[^/]+)", "group", ("groups:administer_groups",)),
        ("GET", r"/(?:u|users)/(?P<username>[^/]+)", "user", ("users:show",)),
        ("GET", r"/admin/users/(?P<id>-?\d+)", "admin_user", ()),
        ("POST", r"/posts", "create", ("topics:write", "wordpress:publishing")),
        ("PUT", r"/posts/(?P<id>\d+)", "edit", ("posts:edit",)),
        (
            "PUT",
            r"/t/(?P<id>\d+)/status",
            "status",
            ("topics:update", "topics:status", "wordpress:publishing"),
        ),
    ]
]


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


class Sandbox:
    """A Discourse-compatible server on loopback. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        world: World | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        port: int = 0,
    ) -> None:
        clock = now or (lambda: datetime.now(UTC))
        self.world = world if world is not None else seed_world(clock())
        if now is not None or world is None:
            self.world.clock = clock
        self.api_username = STAFF_USERNAME
        self.api_key = STAFF_KEY
        with self.world.lock:
            if STAFF_KEY not in self.world.api_keys:
                self.world.add_api_key(STAFF_KEY, STAFF_USERNAME)
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.url = ""
        self.port = port  # 0: any free port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        handler = type("SandboxHandler", (_Handler,), {"sandbox": self})
        server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        # A short poll interval keeps stop() (which waits for the loop to notice) quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- keys and bookkeeping --------------------------------------------------------------

    def member_key(self, username: str) -> str:
        """A single-user key for `username` (the same key on each call); a member's key is
        non-staff, so Discourse's limits for ordinary members apply to it."""
        key = f"sandbox-key-{username.lower()}"
        with self.world.lock:
            self.world.user(username)
            if key not in self.world.api_keys or self.world.api_keys[key].revoked:
                self.world.add_api_key(key, username)
        return key

    def scoped_key(self, username: str, scopes: list[str]) -> str:
        """A granular key for `username`, limited to `scopes` (e.g. "topics:read")."""
        key = f"sandbox-scoped-{username.lower()}-{'-'.join(sorted(scopes)).replace(':', '_')}"
        self.world.add_api_key(key, username, scopes)
        return key

    def reset_requests(self) -> None:
        self.requests.clear()

    def request_kinds(self) -> Counter[str]:
        """Requests received, by what they read or write: what the mirror's costs count."""
        return Counter(request_kind(target) for _, target in self.requests)

    # --- request handling ----------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one request (faults aside): auth, API budget, routing."""
        parts = urlsplit(target)
        path = unquote(parts.path).rstrip("/") or "/"
        if path.endswith(".json"):
            path = path[: -len(".json")]
        query = parse_qs(parts.query, keep_blank_values=True)
        world = self.world
        with world.lock:
            try:
                viewer, api_key = rules.authenticate(
                    world, headers.get("Api-Key"), headers.get("Api-Username")
                )
                for route_method, pattern, name, scope in _ROUTES:
                    match = pattern.fullmatch(path)
                    if route_method == method and match:
                        rules.check_scope(api_key, method, scope)
                        if api_key is not None:
                            rules.check_api_rate(world)
                        form = {**query, **_parse_body(headers.get("Content-Type", ""), body)}
                        handler = getattr(self, f"_{name}")
                        # The unescaped path and query, for redirects that rewrite it.
                        args = {**match.groupdict(), "fullpath": unquote(target)}
                        result: Reply = handler(viewer, args, form, headers)
                        return result
                raise rules.not_found()
            except ApiError as error:
                return Reply(error.status, error.body, dict(error.headers))
            except Exception as error:  # a sandbox bug must answer 500, not look like a drop
                failure = {"errors": [f"Sandbox error: {error!r}"], "error_type": "server_error"}
                return Reply(500, failure)

    def _categories(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        # CategoriesController#index / #fetch_category_list.
        include = _first(form, "include_subcategories") == "true"
        parent_ref = _first(form, "parent_category_id")
        parent = categories.fetch_category(self.world, parent_ref) if parent_ref else None
        page_param = _first(form, "page") or "1"
        page = int(page_param) if page_param.isdigit() else 1
        body = categories.category_list(
            self.world, viewer, parent=parent, include_subcategories=include, page=page
        )
        return Reply(200, body)

    def _category_show(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        category = categories.fetch_category(self.world, args["id"])
        if category is None:
            raise rules.not_found()
        return Reply(200, categories.show(self.world, category, viewer))

    def _category_find_by_slug(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        category = categories.find_by_slug_path(self.world, args["spec"].split("/"))
        if category is None:
            raise rules.not_found()
        return Reply(200, categories.show(self.world, category, viewer))

    def _site(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        return Reply(200, payloads.site(self.world))

    def _category_topics(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        """ListController#category_default, #category_latest, #category_top."""
        spec = args["spec"]
        category = categories.find_by_slug_path_with_id(self.world, spec)
        if category is None:
            raise rules.not_found()
        canonical = self.world.full_slug(category)
        if spec != canonical:
            # ListController#set_category: a wrong slug path answers 301 to the canonical one,
            # the rest of the path and the query kept (Rails makes the Location absolute).
            host = headers.get("Host") or self.url.removeprefix("http://")
            location = args["fullpath"].replace(spec, canonical)
            return Reply(301, None, {"Location": f"http://{host}{location}"})
        view = args.get("filter")
        if view is None:
            view = category.default_view if category.default_view in ("latest", "top") else None
        page_param = _first(form, "page") or "0"
        page = int(page_param) if page_param.isdigit() else 0
        options = {
            name: value
            for name in ("order", "ascending", "state", "period")
            if (value := _first(form, name)) is not None
        }
        if view == "top":
            period = options.get("period") or category.default_top_period
            listed = lists.top(self.world, category, viewer, page=page, period=period)
        else:
            listed = lists.latest(
                self.world,
                category,
                viewer,
                page=page,
                order=options.get("order"),
                ascending=options.get("ascending"),
                state=options.get("state"),
            )
        more_url = None
        if listed.more:
            # ListController#construct_url_with: the same route, its options, the next page.
            route = f"/c/{canonical}" + (f"/l/{args['filter']}" if args.get("filter") else "")
            query = urlencode(sorted({**options, "page": str(page + 1)}.items()))
            more_url = f"{route}?{query}"
        body = payloads.category_topics(
            self.world, category, listed.topics, more_url, listed.per_page, viewer
        )
        return Reply(200, body)

    def _external_id(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        topic = self.world.topic_at_external_id(args["external_id"])
        if topic is None or topic.deleted_at is not None:
            raise rules.not_found()
        rules.visible_topic(self.world, topic.id, viewer)
        # Rails' redirect_to makes the Location absolute, on the host the request came to.
        host = headers.get("Host") or self.url.removeprefix("http://")
        location = f"http://{host}/t/{topic.slug}/{topic.id}.json"
        return Reply(301, None, {"Location": location})

    def _topic(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        topic_id, near = int(args["id"]), args.get("near")
        slug = args.get("slug")
        if slug is not None and slug.isdigit() and near is None:
            # /t/{topic_id}/{post_number}, as Discourse routes two numbers.
            topic_id, near = int(slug), args["id"]
        topic = rules.visible_topic(self.world, topic_id, viewer)
        return Reply(
            200, payloads.topic_show(self.world, topic, viewer, int(near) if near else None)
        )

    def _topic_posts(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        topic = rules.visible_topic(self.world, int(args["id"]), viewer)
        ids = [int(v) for v in form.get("post_ids[]", []) + form.get("post_ids", []) if v.isdigit()]
        number = _first(form, "post_number")
        asc = (_first(form, "asc") or "").lower() in ("true", "1", "t", "on", "yes")
        posts = rules.topic_posts(
            self.world,
            topic,
            post_ids=ids or None,
            post_number=int(number) if number and number.isdigit() else None,
            asc=asc,
            viewer=viewer,
        )
        # Discourse tests `!!params[:include_raw]`: any value, even "false", includes raw.
        raw = "include_raw" in form
        return Reply(200, payloads.topic_posts(self.world, topic, posts, viewer, raw))

    def _post(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        post = self.world.posts.get(int(args["id"]))
        staff = viewer is not None and viewer.staff
        if post is None or (post.deleted_at is not None and not staff):
            raise rules.not_found()
        rules.visible_topic(self.world, post.topic_id, viewer)
        return Reply(200, payloads.post(self.world, post, viewer, "show"))

    def _members(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        group = self.world.groups.get(args["name"].lower())
        if group is None:
            raise rules.not_found()
        limit_param, offset_param = _first(form, "limit") or "50", _first(form, "offset") or "0"
        if not limit_param.isdigit() or not 0 <= int(limit_param) <= 1000:
            raise rules.invalid_parameter("limit")
        if not offset_param.isdigit():
            raise rules.invalid_parameter("offset")
        ascending = bool(_first(form, "asc"))
        return Reply(
            200,
            people.group_members(
                group, _first(form, "order"), ascending, int(limit_param), int(offset_param)
            ),
        )

    def _user(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        user = self.world.find_user(args["username"])
        if user is None or user.deleted:
            raise rules.not_found()
        return Reply(200, people.user_profile(self.world, user, viewer))

    def _admin_user(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        # Admin::UsersController#show, behind Admin::StaffController's ensure_staff (403).
        if viewer is None or not viewer.staff:
            raise rules.forbidden()
        user = self.world.users.get(int(args["id"]))
        if user is None or user.deleted:
            raise rules.not_found()
        return Reply(200, people.admin_user(self.world, user))

    def _group(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        group = self.world.groups.get(args["name"].lower())
        if group is None:
            raise rules.not_found()
        return Reply(200, people.group_show(self.world, group, viewer))

    def _create(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        """PostsController#create memoises API creates by their signature for 120 s
        (DistributedMemoizer.memoize(signature_for(params), 120)): the same request again
        gets the same answer, a 422 included, without writing anything."""
        world = self.world
        signature = _signature(viewer, form, headers)
        now = world.now()
        remembered = world.create_memo.get(signature)
        if remembered is not None and remembered[0] > now:
            return Reply(remembered[1], json.loads(json.dumps(remembered[2])))
        try:
            post = posting.create_post(world, viewer, form)
            reply = Reply(200, payloads.post(world, post, viewer, "create"))
        except ApiError as error:
            if error.status != 422:
                raise  # exceptions (403, 404, 429…) escape the memoizer's block
            reply = Reply(error.status, error.body, dict(error.headers))
        if world.create_memo_seconds:
            until = now + timedelta(seconds=world.create_memo_seconds)
            world.create_memo[signature] = (until, reply.status, json.loads(json.dumps(reply.body)))
        return reply

    def _edit(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        post = posting.update_post(self.world, viewer, int(args["id"]), form)
        return Reply(200, {"post": payloads.post(self.world, post, viewer, "update")})

    def _status(self, viewer: Viewer, args: Args, form: Form, headers: Any) -> Reply:
        rules.update_status(
            self.world,
            viewer,
            int(args["id"]),
            _first(form, "status"),
            _first(form, "enabled"),
            _first(form, "until"),
        )
        return Reply(200, {"success": "OK", "topic_status_update": None})


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _signature(viewer: Viewer, form: Form, headers: Any) -> str:
    """PostsController#signature_for: the create's parameters, with the user, and the
    `ip_address` and `user_agent` create_params adds, sorted by name."""
    pairs = sorted((name, values) for name, values in form.items())
    pairs.append(("user", [str(viewer.id if viewer else None)]))
    pairs.append(("user_agent", [str(headers.get("User-Agent") or "")]))
    return hashlib.sha1(json.dumps(pairs).encode()).hexdigest()


def _parse_body(content_type: str, body: bytes) -> dict[str, list[str]]:
    """Form-encoded (what pydiscourse sends) or JSON, flattened to Rails-style names. Arrays of
    hashes (`tags[][name]=a&tags[][name]=b`) are grouped as Rails does, a new hash starting
    when a key comes back, and handed over as JSON under `tags[][]`."""
    if not body:
        return {}
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return _flatten(data) if isinstance(data, dict) else {}
    form = parse_qs(text, keep_blank_values=True)
    hashes: dict[str, list[dict[str, str]]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        match = re.fullmatch(r"(\w+)\[\]\[(\w+)\]", name)
        if match is None:
            continue
        array, key = match.groups()
        items = hashes.setdefault(array, [])
        if not items or key in items[-1]:
            items.append({})
        items[-1][key] = value
    for array, items in hashes.items():
        form[f"{array}[][]"] = [json.dumps(item) for item in items]
    return form


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """{"post": {"raw": x}, "tags": [a]} -> {"post[raw]": [x], "tags[]": [a]}."""
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out[name + "[][]"] = [json.dumps(v) for v in value]
        elif isinstance(value, list):
            out[name if name.endswith("[]") else name + "[]"] = [_scalar(v) for v in value]
        elif value is not None:
            out[name] = [_scalar(value)]
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP layer: reads, records, applies faults, writes (or deliberately does not)."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real server; every answer has a length
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK would add ~40 ms to every answer.
    disable_nagle_algorithm = True
    sandbox: Sandbox

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and `bridge demo` print their own story."""

    def _serve(self, method: str) -> None:
        sandbox = self.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sandbox.requests.append((method, self.path))
        fault, status = sandbox.faults.decide(method, urlsplit(self.path).path)
        if fault == "drop":
            self._hang_up()
            return
        if sandbox.faults.latency:
            time.sleep(sandbox.faults.latency)
        if fault == "status":
            self._send_fault(status)
            return
        reply = sandbox.handle(method, self.path, self.headers, body)
        if fault == "crash":
            self._hang_up()
            return
        kind = sandbox.faults.malformed_kind(method, urlsplit(self.path).path)
        if kind is not None and reply.status == 200:
            data, content_type = malformed_body(kind, reply.body)
            self._write(200, data, content_type, reply.headers)
            return
        self._send(reply.status, reply.body, reply.headers)

    def _hang_up(self) -> None:
        # No status line, no bytes: the client sees the connection close (requests raises
        # ConnectionError). close_connection stops http.server from reading another request.
        self.close_connection = True

    def _send_fault(self, status: int) -> None:
        if status == 429:
            error = rules.rate_limited(self.sandbox.faults.rate_limit_wait, "sandbox_fault")
            self._send(429, error.body, error.headers)
        elif status >= 500:
            # What a proxy in front of Discourse answers: HTML, not JSON.
            reason = self.responses.get(status, ("",))[0]
            text = f"<html><body><h1>{status} {reason}</h1></body></html>"
            self._write(status, text.encode(), "text/html; charset=utf-8", {})
        else:
            self._send(status, {"errors": [f"Sandbox fault {status}"], "error_type": "fault"}, {})

    def _send(self, status: int, body: dict[str, Any] | None, headers: dict[str, str]) -> None:
        if body is None:
            self._write(status, b"", "text/html; charset=utf-8", headers)
        else:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self._write(status, data, JSON_TYPE, headers)

    def _write(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client refused a body too large to read, and hung up.
            self.close_connection = True


def request_kind(target: str) -> str:
    """categories, list, posts, members, topic, user or other."""
    path = target.split("?")[0]
    if path == "/categories.json" or path.endswith(("/show.json", "/find_by_slug.json")):
        return "categories"
    if path.startswith("/c/"):
        return "list"
    if path.endswith("/posts.json"):
        return "posts"
    if path.startswith("/groups/"):
        return "members"
    if path.startswith("/t/"):
        return "topic"
    if path.startswith("/u/"):
        return "user"
    return "other"
