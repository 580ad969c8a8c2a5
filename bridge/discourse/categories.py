"""The client's category reads: finding the watched category and its family, and its list.

`/categories.json` cannot be trusted to hold a given category on a large site: past 1000
categories, or with lazy loading, it comes 20 at a time and drops or truncates subcategories
(`CategoryList#find_categories`); `/site.json` lists only part of them when they are lazy-loaded.
So the family is read from the category itself:

- the category: `/c/{id or top-level slug}/show.json` (CategoriesController#show), or
  `/c/{parent}/{child}/find_by_slug.json` for a slug path; its ancestors the same way, by id,
  for the canonical path of its list (one more read for a subcategory, none for a top-level one);
- its subcategories: `/categories.json?parent_category_id={id}`, 20 a page on large sites,
  read only when Discourse says it has some (and again for each of those that has its own).

A top-level category with subcategories, or a subcategory without, costs two reads.

The list is read at its canonical path `/c/{parent}/{child}/{id}/l/latest.json` with an
explicit `order=activity`, so that neither the category's `default_view` (a "top" view) nor its
`sort_order` changes what the mirror's cursor relies on: pinned topics first, then by
`bumped_at`, newest first. A path gone stale (a slug renamed) is answered with a 301, which the
transport follows on the same site; the next pages are then read at the new path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from bridge.discourse.transport import Transport
from bridge.errors import DiscourseError, NotFoundError, UnknownCategory
from bridge.models import (
    Category,
    Payload,
    TopicSummary,
    flatten_categories,
    json_object,
    json_objects,
)

T = TypeVar("T")

# CategoryList::CATEGORIES_PER_PAGE, when Discourse pages /categories.json.
CATEGORIES_PER_PAGE = 20
# Discourse's max_category_nesting is 2 or 3: a category has at most two ancestors.
_MAX_DEPTH = 3


def _categories(payload: Payload) -> list[Category]:
    category_list = json_object(payload.get("category_list") or {}, "category_list")
    return flatten_categories(json_objects(category_list.get("categories"), "categories"))


def _listed_count(payload: Payload) -> int:
    category_list = json_object(payload.get("category_list") or {}, "category_list")
    return len(json_objects(category_list.get("categories"), "categories"))


def _category(payload: Payload) -> Category:
    return Category.from_api(json_object(payload["category"], "category"))


def _topic_page(payload: Payload) -> tuple[list[TopicSummary], bool]:
    """One list page's topics, and whether Discourse announces another page."""
    topic_list = json_object(payload.get("topic_list") or {}, "topic_list")
    topics = [TopicSummary.from_api(t) for t in json_objects(topic_list.get("topics"), "topics")]
    return topics, bool(topic_list.get("more_topics_url"))


def _with_path(category: Category, parent_path: tuple[str, ...]) -> Category:
    return replace(category, slug_path=(*parent_path, category.url_slug))


class CategoryReads:
    """Category reads of `DiscourseClient` (which provides the plumbing below)."""

    _api: Transport
    _read: Callable[..., Payload]
    _parse: Callable[..., Any]

    def fetch_categories(self) -> list[Category]:
        """The site's category list in one read; on a large site, only its first page."""
        path = "/categories.json"
        payload = self._read(path, {"include_subcategories": "true"})
        result: list[Category] = self._parse(path, _categories, payload)
        return result

    def resolve_category(
        self, slug_or_id: str | int, *, categories: Sequence[Category] | None = None
    ) -> Category:
        """The category named by slug or id among `categories` (default: `fetch_categories`)."""
        known = list(categories) if categories is not None else self.fetch_categories()
        wanted = str(slug_or_id).strip()
        if wanted.isdigit():
            matches = [c for c in known if c.id == int(wanted)]
        else:
            matches = [c for c in known if c.slug.lower() == wanted.lower()]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(str(c.id) for c in matches)
            raise NotFoundError(
                f"plusieurs catégories portent le slug « {wanted} » sur {self._api.host} "
                f"(ids {ids}) : indiquez l'id"
            )
        visible = ", ".join(c.slug for c in known[:20]) or "aucune"
        raise NotFoundError(
            f"la catégorie « {wanted} » est introuvable sur {self._api.host} (ou le compte "
            f"« {self._api.api_username} » ne peut pas la voir) ; catégories visibles : {visible}"
        )

    def fetch_category(self, slug_or_id: str | int) -> Category:
        """One category by id, top-level slug or slug path (`parent/child`), in one read.

        Discourse finds a bare slug among top-level categories only: a subcategory named by its
        own slug is then looked for in `/categories.json` (its first page on a large site).
        """
        wanted = str(slug_or_id).strip().strip("/")
        if "/" in wanted:
            slugs = "/".join(quote(s, safe="") for s in wanted.split("/"))
            path = f"/c/{slugs}/find_by_slug.json"
        else:
            path = f"/c/{quote(wanted, safe='')}/show.json"
        try:
            payload = self._read(path)
        except NotFoundError:
            if "/" in wanted or wanted.isdigit():
                raise self._unknown(wanted) from None
            try:
                return self.resolve_category(wanted)
            except NotFoundError:
                raise self._unknown(wanted) from None
        category: Category = self._parse(path, _category, payload)
        return category

    def fetch_subcategories(self, category: Category) -> list[Category]:
        """The category's direct subcategories (none read when Discourse says it has none)."""
        if not category.has_children:
            return []
        path = "/categories.json"
        found: dict[int, Category] = {}
        page = 1
        while True:
            params = {"parent_category_id": category.id, "page": page}
            payload = self._read(path, params)
            listed = self._parse(path, _listed_count, payload)
            for child in self._parse(path, _categories, payload):
                if child.parent_id == category.id:
                    found.setdefault(child.id, child)
            # Paged only on large sites: a short page is the last one.
            wanted = category.subcategory_count
            if listed < CATEGORIES_PER_PAGE or (wanted is not None and len(found) >= wanted):
                return list(found.values())
            page += 1

    def fetch_category_family(self, slug_or_id: str | int) -> list[Category]:
        """The category first (its `subcategory_ids` and `slug_path` filled in), then its
        ancestors, then its subcategories at any depth, each with its slug path."""
        category = self.fetch_category(slug_or_id)
        ancestors: list[Category] = []
        parent_id = category.parent_id
        while parent_id is not None and len(ancestors) < _MAX_DEPTH:
            ancestors.insert(0, self.fetch_category(parent_id))
            parent_id = ancestors[0].parent_id
        path: tuple[str, ...] = ()
        for index, ancestor in enumerate(ancestors):
            ancestors[index] = _with_path(ancestor, path)
            path = ancestors[index].slug_path
        category = _with_path(category, path)
        descendants: list[Category] = []
        todo = [category]
        while todo:
            parent = todo.pop(0)
            children = [_with_path(c, parent.slug_path) for c in self.fetch_subcategories(parent)]
            if parent is category:
                category = replace(category, subcategory_ids=tuple(c.id for c in children))
            descendants += children
            todo += children
        return [category, *ancestors, *descendants]

    def iter_category_pages(self, category: Category) -> Iterator[list[TopicSummary]]:
        """The category's list a whole page at a time (30 topics, `page` from 0), by activity:
        the category's pinned topics first, then by last activity, newest first, whatever the
        category's own view or sort order.

        A page is read only when the caller asks for the next one, so a caller that has seen
        enough stops at a page boundary and reads nothing more. The list ends at the first empty
        page or the first one without a `more_topics_url` (a full page always announces more).
        """
        yield from self._pages(category, {"order": "activity"})

    def fetch_muted_topics(self, category: Category) -> list[TopicSummary]:
        """The first page of the category's topics the account muted (`state=muted`): Discourse
        leaves those out of every other list the bridge reads."""
        return next(self._pages(category, {"order": "activity", "state": "muted"}), [])

    def _pages(self, category: Category, options: dict[str, str]) -> Iterator[list[TopicSummary]]:
        path = f"{category.list_path}/l/latest.json"
        page = 0
        while True:
            response = self._api.send("GET", path, params={**options, "page": page})
            payload = self._api.decode("GET", path, response)
            if not isinstance(payload, Mapping):
                raise DiscourseError(
                    f"réponse inattendue de GET {self._api.host}{path} : pas un objet JSON"
                )
            topics, more = self._parse(path, _topic_page, payload)
            # Redirected (a renamed slug): the next pages are asked for where Discourse said.
            path = self._path_of(response.url) or path
            if not topics:
                return
            yield topics
            if not more:
                return
            page += 1

    def _path_of(self, url: str | None) -> str | None:
        if not url:
            return None
        base = urlsplit(self._api.host).path.rstrip("/")
        found = urlsplit(url).path
        return found[len(base) :] if found.startswith(base) else None

    def _unknown(self, wanted: str) -> UnknownCategory:
        return UnknownCategory(
            f"la catégorie « {wanted} » est introuvable sur {self._api.host} (ou le compte "
            f"« {self._api.api_username} » ne peut pas la voir) : indiquez son id, ou son chemin "
            "« parent/enfant » pour une sous-catégorie",
            wanted,
        )
