"""Python client for the sodan console API: list cases, read and send messages,
export the access log, as a logged-in staff member with that member's rights."""

from sodan_console_client.client import (
    AsyncConsoleClient,
    AuthenticationError,
    ConsoleClient,
    ConsoleError,
    ConsoleUnreachable,
    NotFound,
    PermissionDenied,
    TotpRequired,
)
from sodan_console_client.models import Case, CaseDetail, CasePage, Message, Staff

__all__ = [
    "AsyncConsoleClient",
    "AuthenticationError",
    "Case",
    "CaseDetail",
    "CasePage",
    "ConsoleClient",
    "ConsoleError",
    "ConsoleUnreachable",
    "Message",
    "NotFound",
    "PermissionDenied",
    "Staff",
    "TotpRequired",
]
