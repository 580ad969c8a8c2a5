"""Building the bridge's parts from a configuration: store, client, renderer, publisher.

The CLI, the scheduler and the demo all assemble the same parts; this is the one place that
knows how.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from bridge.config import Config
from bridge.discourse import Category, DiscourseClient
from bridge.errors import ConfigError, NotFoundError, Stopping
from bridge.misconfig import require_writable_store
from bridge.publish import Gate, Publisher, StepHook
from bridge.render import Renderer
from bridge.store import RunStatus, Store


class Summary(Protocol):
    def describe(self) -> str: ...


S = TypeVar("S", bound=Summary)


JOB_WAIT_SECONDS = 300.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Parts:
    config: Config
    store: Store
    renderer: Renderer
    now: Callable[[], datetime] = utc_now
    _client: DiscourseClient | None = None
    # The service's: a shutdown check before each request and draft, and a test hook.
    gate: Gate | None = None
    on_step: StepHook | None = None
    # How long a job waits for another one on the same store (a command run by hand while
    # the service works) before it says so and gives up.
    job_wait: float = field(default_factory=lambda: JOB_WAIT_SECONDS)
    _categories: dict[str, Category] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        config: Config,
        *,
        now: Callable[[], datetime] = utc_now,
        client: DiscourseClient | None = None,
        readonly: bool = False,
    ) -> Parts:
        """The parts for one command; `readonly` gives a private copy of the store, for
        commands that promise to write nothing (dry runs, `status`, `check`, search, export)."""
        if not readonly:
            require_writable_store(config)  # in the words of `bridge check`
        opener = Store.snapshot if readonly else Store.open
        store = opener(config.store_path, config.site, config.community.category)
        renderer = Renderer(
            config.templates_dir,
            locale=config.community.locale,
            timezone=config.community.timezone,
        )
        return cls(config=config, store=store, renderer=renderer, now=now, _client=client)

    def __enter__(self) -> Parts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store (its last connection folds the write-ahead log into the file) and
        the client's connections."""
        self.store.close()
        if self._client is not None:
            self._client.close()

    @property
    def client(self) -> DiscourseClient:
        """The Discourse client, created on first use (dry runs and `status` need no key)."""
        if self._client is None:
            d = self.config.discourse
            self._client = DiscourseClient(
                d.url,
                d.api_username,
                self.config.require_api_key(),
                timeout=d.timeout,
                requests_per_minute=d.requests_per_minute,
                gate=self.gate.check if self.gate else None,
            )
        return self._client

    def category(self, slug_or_id: str) -> Category:
        """A category of the site by slug or id: the watched category's family is read once
        per run (not /categories.json, which large sites page and truncate); another category
        is read by itself (the only read when the mirror holds the family already)."""
        if not self._categories and not self.store.has_categories():
            for c in self.client.fetch_category_family(self.config.community.category):
                self._categories.setdefault(c.slug, c)
                self._categories[str(c.id)] = c
        found = self._categories.get(str(slug_or_id))
        if found is not None:
            return found
        try:
            found = self.client.fetch_category(slug_or_id)
        except NotFoundError:
            raise ConfigError(
                f"{self.config.source}: la catégorie « {slug_or_id} » n'existe pas sur "
                f"{self.config.site} (ou la clé ne peut pas la voir)"
            ) from None
        self._categories[str(slug_or_id)] = found
        return found

    def category_id(self, slug_or_id: str) -> int:
        """A category's id: from the mirror when `bridge sync` stored it, saving a read."""
        stored = self.store.category(slug_or_id)
        return stored.id if stored is not None else self.category(slug_or_id).id

    def publisher(self, on_step: StepHook | None = None) -> Publisher:
        return Publisher(
            self.client,
            self.store,
            resolve_category=self.category_id,
            now=self.now,
            on_step=on_step or self.on_step,
            site_settings=self.config.discourse.site_settings,
            gate=self.gate,
        )

    def run_job(self, job: str, work: Callable[[], S]) -> S:
        """Run one job, recording its start, end, outcome and summary in the store.

        One job at a time per store, across processes: a job waits its turn (`job_wait`
        seconds at most, then `StoreBusy`, exit code 1).
        """
        with self.store.exclusive("jobs", wait=self.job_wait):
            return self._run_job(job, work)

    def _run_job(self, job: str, work: Callable[[], S]) -> S:
        run_id = self.store.run_started(job, self.now())
        try:
            summary = work()
        except Stopping:
            # Cut short by the service's stop: left without an end, as a killed run is, so
            # that the next start runs it again (`service.owed_at_start`) rather than at its
            # next time, a week later for the digest.
            raise
        except BaseException as exc:
            self.store.run_finished(
                run_id, self.now(), RunStatus.FAILED, error=str(exc) or type(exc).__name__
            )
            raise
        ok = getattr(summary, "ok", True)
        self.store.run_finished(
            run_id,
            self.now(),
            RunStatus.OK if ok else RunStatus.FAILED,
            summary=summary.describe(),
        )
        return summary
