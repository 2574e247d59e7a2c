"""HTTP for connectors: one client per source, with authentication, timeouts, and retries
that follow what the tool says about its rate limits.

Retries (tenacity) happen on 429, on 5xx, on a 403 that carries rate-limit headers (GitHub's
secondary limits) and on network errors. The wait is what the tool asked for — ``Retry-After``
(seconds or an HTTP date), or the reset time of an exhausted quota (``X-RateLimit-Reset``,
``RateLimit-Reset``) — or else exponential backoff with jitter. A 401, or a 403 without
rate-limit headers, is an authentication failure and is never retried.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from streamwise.errors import AuthenticationError, SourceError

USER_AGENT = "streamwise (+https://github.com/streamwise/streamwise)"


class _RetryableError(Exception):
    """One failed attempt worth repeating; ``wait_s`` is what the tool asked us to wait."""

    def __init__(self, message: str, wait_s: float | None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def _seconds_until(header: str, now: float) -> float | None:
    """A ``Retry-After`` value (delta seconds or HTTP date) → seconds to wait."""
    value = header.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError):
        return None


def advised_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long the tool's headers ask us to wait before the next request (None: no advice)."""
    now = time.time() if now is None else now
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        return _seconds_until(retry_after, now)
    remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining"))
    reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset"))
    if remaining is not None and remaining.strip() == "0" and reset is not None:
        try:
            value = float(reset)
        except ValueError:
            return None
        # An epoch moment (GitHub, GitLab) or, from some tools, seconds from now.
        return max(value - now, 0.0) if value > 1e9 else value
    return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    longest_wait_s: float = 300.0  # never sleep longer than this on one advice
    backoff_s: float = 1.0  # first exponential backoff step


class ToolClient:
    """GET requests against one tool for one source."""

    def __init__(
        self,
        source_name: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        credential_hint: str = "the token",
        url_hint: str = "right",
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source_name = source_name
        self.credential_hint = credential_hint
        self.url_hint = url_hint
        """What the source's URL should be, for the message when an answer is not JSON."""
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            auth=auth,
            timeout=timeout_s,
            follow_redirects=True,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "ToolClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableError) and error.wait_s is not None:
            return min(error.wait_s, self.retry.longest_wait_s)
        backoff = wait_exponential_jitter(multiplier=self.retry.backoff_s, max=60.0)
        return float(backoff(state))

    def _attempt(self, url: str, params: Mapping[str, Any] | None) -> httpx.Response:
        try:
            response = self.http.get(url.lstrip("/") if "://" not in url else url, params=params)
        except httpx.TransportError as error:
            raise _RetryableError(f"{type(error).__name__}: {error}", None) from error
        status = response.status_code
        wait = advised_wait(response.headers)
        if status == 429 or status >= 500 or (status == 403 and wait is not None):
            raise _RetryableError(f"HTTP {status}", wait)
        if status in (401, 403):
            raise AuthenticationError(
                f"source {self.source_name!r}: {response.request.url} answered {status} "
                f"{response.reason_phrase}. Check {self.credential_hint}: that it is set, "
                "not expired, and allowed to read this (see docs/connectors.md)."
            )
        if status >= 400:
            raise SourceError(
                f"source {self.source_name!r}: {response.request.url} answered {status} "
                f"{response.reason_phrase}: {response.text[:300]}"
            )
        return response

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET ``url`` (relative to the base URL, or absolute as pagination links are)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_RetryableError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, params)
        except _RetryableError as error:
            raise SourceError(
                f"source {self.source_name!r}: GET {url} still failing after "
                f"{self.retry.attempts} attempts ({error}). The tool may be down or limiting "
                "us; run the sync again later — what was fetched so far is kept."
            ) from error

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.json_of(self.get(url, params))

    def json_of(self, response: httpx.Response) -> Any:
        """The response's JSON; a page that is not JSON usually means a wrong source URL."""
        try:
            return response.json()
        except ValueError as error:
            raise SourceError(
                f"source {self.source_name!r}: {response.request.url} did not answer JSON "
                f"({error}); is the URL of the source {self.url_hint}?"
            ) from error
