"""One paginated GET loop for the providers' admin APIs, with the failure modes made explicit.

Contract:

- ``pages(url, params, headers)`` yields each page's JSON object, following ``has_more`` +
  ``next_page`` (sent back as ``page``), at most ``MAX_PAGES`` pages.
- 429 and 5xx are retried: the wait is ``Retry-After`` (seconds, capped at ``max_wait``) or an
  exponential back-off (1, 2, 4 ... s); after ``retries`` attempts the last error is raised.
  Timeouts and connection errors are retried the same way.
- 401/403 raise ``ApiError`` saying which key is needed, and never repeat the key.
- A body that is not a JSON object raises ``ApiError`` (the caller records a problem row).
- ``sleep`` is injectable so tests do not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson

from logscan.errors import LogscanError

MAX_PAGES = 10_000


class ApiError(LogscanError):
    """A provider API call that failed for good; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Client:
    def __init__(self, base_url: str, headers: dict[str, str], *, key_hint: str, timeout: float = 30.0, retries: int = 5,
                 max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_hint = key_hint  # what to say on 401/403: which key type is needed
        self.retries = retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.http = httpx.Client(headers=headers, timeout=timeout, transport=transport, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        url = self.base_url + path
        last = ""
        for attempt in range(self.retries):
            try:
                r = self.http.get(url, params=params)
            except httpx.HTTPError as e:  # timeout, refused, reset
                last = f"{type(e).__name__}: {e}"
                self.sleep(min(2.0 ** attempt, self.max_wait))
                continue
            if r.status_code in (401, 403):
                raise ApiError(f"{path}: HTTP {r.status_code}: the key was refused. {self.key_hint}", r.status_code)
            if r.status_code == 429 or r.status_code >= 500:
                last = f"HTTP {r.status_code}"
                self.sleep(self._wait(r, attempt))
                continue
            if r.status_code != 200:
                raise ApiError(f"{path}: HTTP {r.status_code}: {_brief(r.text)}", r.status_code)
            try:
                doc = orjson.loads(r.content)
            except orjson.JSONDecodeError as e:
                raise ApiError(f"{path}: the answer is not JSON ({e}): {_brief(r.text)}", 200) from None
            if not isinstance(doc, dict):
                raise ApiError(f"{path}: the answer is JSON but not an object", 200)
            return doc
        raise ApiError(f"{path}: gave up after {self.retries} attempts ({last}); try again later", 0)

    def _wait(self, r: httpx.Response, attempt: int) -> float:
        ra = r.headers.get("retry-after", "")
        try:
            return max(0.0, min(float(ra), self.max_wait))
        except ValueError:
            return min(2.0 ** attempt, self.max_wait)

    def pages(self, path: str, params: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        page: str | None = None
        for _ in range(MAX_PAGES):
            doc = self.get(path, params + ([("page", page)] if page else []))
            yield doc
            nxt = doc.get("next_page")
            if not doc.get("has_more") or not isinstance(nxt, str) or not nxt or nxt == page:
                return
            page = nxt
        raise ApiError(f"{path}: more than {MAX_PAGES} pages; narrow --since/--until")


def _brief(text: str) -> str:
    return " ".join(text.split())[:200]
