"""``ConsoleClient`` (and ``AsyncConsoleClient``): the console's HTTP API for scripts,
over one logged-in session.

Both clients build the same requests and read the same answers through the
helpers below; they differ only in how they wait.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self
from uuid import UUID

import httpx

from sodan_console_client.models import Case, CaseDetail, CasePage, Message, Staff

# The console refuses state-changing requests without it (its CSRF defence: a
# cross-site form cannot set a custom header). Harmless on reads, so always sent.
CSRF_HEADERS = {"X-Requested-With": "sodan"}
USER_AGENT = "sodan-console-client/0.1"


UNEXPECTED = (
    "コンソールから予期しない応答がありました（URL がコンソールのものか確認してください: {url}）"
)
ENROLMENT_PENDING = (
    "二段階認証（確認コード）の登録が済んでいません。"
    "ブラウザのコンソールで一度ログインして登録してください"
)


class ConsoleError(Exception):
    """The console refused a request, or could not be reached (``status`` None).

    ``detail`` is the console's own message (Japanese, meant for people).
    """

    def __init__(self, detail: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(f"{detail} (HTTP {status})" if status is not None else detail)
        self.detail = detail
        self.status = status
        self.body = body


class AuthenticationError(ConsoleError):
    """401: wrong login, password or code, or the session ended."""


class TotpRequired(AuthenticationError):
    """The password was right; the account also needs its 6-digit code (``totp=``)."""


class PermissionDenied(ConsoleError):
    """403: this staff member may not do that (wrong role, or somebody else's case)."""


class NotFound(ConsoleError):
    """404."""


class ConsoleUnreachable(ConsoleError):
    """No answer at that URL (wrong address, console down, network)."""


def _error_for(response: httpx.Response) -> ConsoleError:
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, str) or not detail:
        detail = UNEXPECTED.format(url=response.request.url)
    status = response.status_code
    if status == 401:
        if isinstance(body, dict) and body.get("totp_required"):
            return TotpRequired(detail, status, body)
        return AuthenticationError(detail, status, body)
    kinds: dict[int, type[ConsoleError]] = {403: PermissionDenied, 404: NotFound}
    return kinds.get(status, ConsoleError)(detail, status, body)


def _unreachable(base_url: str, exc: httpx.HTTPError) -> ConsoleUnreachable:
    if isinstance(exc, httpx.TimeoutException):
        return ConsoleUnreachable(f"コンソールが時間内に応答しませんでした: {base_url}")
    return ConsoleUnreachable(
        f"コンソールに接続できません（URL を確認してください）: {base_url}（{type(exc).__name__}）"
    )


def _answer(response: httpx.Response) -> Any:
    """The JSON of a successful answer; the console's refusal as an exception."""
    if response.status_code >= 400:
        raise _error_for(response)
    if response.status_code == 204:
        return None
    try:
        return response.json()
    except ValueError:
        raise ConsoleError(
            UNEXPECTED.format(url=response.request.url), response.status_code
        ) from None


def _login_body(login: str, password: str, totp: str | None) -> dict[str, str]:
    body = {"login": login, "password": password}
    if totp:
        body["totp"] = totp
    return body


def _logged_in(data: Any) -> Staff:
    if data.get("enrolment_required"):
        raise AuthenticationError(ENROLMENT_PENDING, 200, data)
    return Staff.model_validate(data)


def _cases_params(
    status: Iterable[str] | None,
    urgency: Iterable[str] | None,
    cursor: str | None,
    limit: int | None,
) -> list[tuple[str, str | int]]:
    params: list[tuple[str, str | int]] = [("status", s) for s in status or ()]
    params += [("urgency", u) for u in urgency or ()]
    if cursor:
        params.append(("cursor", cursor))
    if limit:
        params.append(("limit", limit))
    return params


def _case_params(mark_read: bool) -> dict[str, str]:
    return {"mark_read": "true" if mark_read else "false"}


def _access_log_params(
    since: date | None, until: date | None, staff_id: UUID | str | None, action: str | None
) -> dict[str, str]:
    params: dict[str, str] = {}
    if since is not None:
        params["from"] = since.isoformat()
    if until is not None:
        params["to"] = until.isoformat()
    if staff_id is not None:
        params["staff_id"] = str(staff_id)
    if action is not None:
        params["action"] = action
    return params


def _partial(target: Path) -> Path:
    # Written beside and renamed: a refused or broken export leaves no half file.
    return target.with_name(target.name + ".part")


def _http_options(base_url: str, timeout: float, verify: bool | str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "timeout": timeout,
        "verify": verify,
        "headers": {**CSRF_HEADERS, "User-Agent": USER_AGENT},
        "follow_redirects": False,
    }


class ConsoleClient:
    """A logged-in staff member's view of the console API.

    >>> with ConsoleClient("https://console.example") as console:
    ...     console.login("counsellor1", password, totp="123456")
    ...     for case in console.iter_cases(status=["assigned"]):
    ...         print(case.client_label)

    Everything the console allows this staff member, and nothing else: the same
    role and case rules (and the same access log) as the browser console.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            transport=transport, **_http_options(self.base_url, timeout, verify)
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, exc) from None
        return _answer(response)

    def login(self, login: str, password: str, *, totp: str | None = None) -> Staff:
        """Start a session (kept as a cookie by this client). Raises TotpRequired when
        the account needs its code and none was given."""
        body = _login_body(login, password, totp)
        return _logged_in(self._json("POST", "/api/login", json=body))

    def logout(self) -> None:
        self._json("POST", "/api/logout")

    def me(self) -> Staff:
        return Staff.model_validate(self._json("GET", "/api/me"))

    def cases_page(
        self,
        *,
        status: Iterable[str] | None = None,
        urgency: Iterable[str] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> CasePage:
        """One page of the list, most urgent and longest waiting first. Without
        ``status`` the console lists the open cases (queued, assigned, on_hold)."""
        params = _cases_params(status, urgency, cursor, limit)
        return CasePage.model_validate(self._json("GET", "/api/cases", params=params))

    def iter_cases(
        self,
        *,
        status: Iterable[str] | None = None,
        urgency: Iterable[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[Case]:
        """Every case the staff member may see, fetching page after page."""
        statuses, urgencies = list(status or ()), list(urgency or ())
        cursor: str | None = None
        while True:
            page = self.cases_page(
                status=statuses, urgency=urgencies, cursor=cursor, limit=page_size
            )
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def list_cases(
        self,
        *,
        status: Iterable[str] | None = None,
        urgency: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Case]:
        """Like iter_cases, as a list of at most ``limit`` cases (None: all)."""
        cases: list[Case] = []
        for case in self.iter_cases(status=status, urgency=urgency):
            if limit is not None and len(cases) >= limit:
                break
            cases.append(case)
        return cases

    def get_case(self, case_id: UUID | str, *, mark_read: bool = False) -> CaseDetail:
        """The case with its conversation (recorded in the access log as a read).

        ``mark_read`` False by default: a script reading a case must not show the
        client 既読 as if a counsellor had seen their message.
        """
        data = self._json("GET", f"/api/cases/{case_id}", params=_case_params(mark_read))
        return CaseDetail.model_validate(data)

    def send_reply(self, case_id: UUID | str, text: str) -> Message:
        """Send ``text`` to the client as this staff member (the assigned counsellor or a
        supervisor). Accepted for delivery: ``delivery`` starts as ``pending``."""
        data = self._json("POST", f"/api/cases/{case_id}/replies", json={"text": text})
        return Message.model_validate(data["message"])

    def export_access_log(
        self,
        out: str | Path | BinaryIO,
        *,
        since: date | None = None,
        until: date | None = None,
        staff_id: UUID | str | None = None,
        action: str | None = None,
    ) -> int:
        """Write the access log as CSV (UTF-8 with BOM, as the admin screen exports it)
        to a path or binary file; returns the bytes written. Admins only.

        ``since``/``until`` are the desk's (JST) calendar days, both included.
        """
        params = _access_log_params(since, until, staff_id, action)
        try:
            with self._http.stream("GET", "/api/admin/access-log.csv", params=params) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_for(response)
                if not isinstance(out, str | Path):
                    return self._copy(response, out)
                partial = _partial(Path(out))
                try:
                    with partial.open("wb") as file:
                        written = self._copy(response, file)
                except BaseException:
                    partial.unlink(missing_ok=True)
                    raise
                partial.replace(out)
                return written
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, exc) from None

    @staticmethod
    def _copy(response: httpx.Response, file: BinaryIO) -> int:
        written = 0
        for chunk in response.iter_bytes():
            file.write(chunk)
            written += len(chunk)
        return written


class AsyncConsoleClient:
    """ConsoleClient for asyncio programs: the same methods, awaited
    (``iter_cases`` is an async iterator)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            transport=transport, **_http_options(self.base_url, timeout, verify)
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, exc) from None
        return _answer(response)

    async def login(self, login: str, password: str, *, totp: str | None = None) -> Staff:
        body = _login_body(login, password, totp)
        return _logged_in(await self._json("POST", "/api/login", json=body))

    async def logout(self) -> None:
        await self._json("POST", "/api/logout")

    async def me(self) -> Staff:
        return Staff.model_validate(await self._json("GET", "/api/me"))

    async def cases_page(
        self,
        *,
        status: Iterable[str] | None = None,
        urgency: Iterable[str] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> CasePage:
        params = _cases_params(status, urgency, cursor, limit)
        return CasePage.model_validate(await self._json("GET", "/api/cases", params=params))

    async def iter_cases(
        self,
        *,
        status: Iterable[str] | None = None,
        urgency: Iterable[str] | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Case]:
        statuses, urgencies = list(status or ()), list(urgency or ())
        cursor: str | None = None
        while True:
            page = await self.cases_page(
                status=statuses, urgency=urgencies, cursor=cursor, limit=page_size
            )
            for case in page.items:
                yield case
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def list_cases(
        self,
        *,
        status: Iterable[str] | None = None,
        urgency: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Case]:
        cases: list[Case] = []
        async for case in self.iter_cases(status=status, urgency=urgency):
            if limit is not None and len(cases) >= limit:
                break
            cases.append(case)
        return cases

    async def get_case(self, case_id: UUID | str, *, mark_read: bool = False) -> CaseDetail:
        data = await self._json("GET", f"/api/cases/{case_id}", params=_case_params(mark_read))
        return CaseDetail.model_validate(data)

    async def send_reply(self, case_id: UUID | str, text: str) -> Message:
        data = await self._json("POST", f"/api/cases/{case_id}/replies", json={"text": text})
        return Message.model_validate(data["message"])

    async def export_access_log(
        self,
        out: str | Path | BinaryIO,
        *,
        since: date | None = None,
        until: date | None = None,
        staff_id: UUID | str | None = None,
        action: str | None = None,
    ) -> int:
        """As ConsoleClient.export_access_log."""
        params = _access_log_params(since, until, staff_id, action)
        try:
            async with self._http.stream(
                "GET", "/api/admin/access-log.csv", params=params
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error_for(response)
                if not isinstance(out, str | Path):
                    return await self._copy(response, out)
                partial = _partial(Path(out))
                try:
                    with partial.open("wb") as file:
                        written = await self._copy(response, file)
                except BaseException:
                    partial.unlink(missing_ok=True)
                    raise
                partial.replace(out)
                return written
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, exc) from None

    @staticmethod
    async def _copy(response: httpx.Response, file: BinaryIO) -> int:
        written = 0
        async for chunk in response.aiter_bytes():
            file.write(chunk)
            written += len(chunk)
        return written
