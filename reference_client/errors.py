"""What can go wrong, one class per situation; `app.py` turns each into a page in one place.

Each error carries the HTTP status and the words the user sees; none carries a token. None
answers 500: an IMS or Lightroom that is down, slow or talking nonsense gets a page that says so.
"""

from __future__ import annotations

from typing import ClassVar


class PageError(Exception):
    """An error the user is shown as a page: `title`, `message`, and a stable `code` for automation."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Something went wrong"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginStateError(PageError):
    """The callback's state is missing, unknown, expired, reused or another browser's (RFC 6749 §10.12)."""

    code = "invalid_state"
    title = "This sign-in link is not valid here"


class AuthorizationDenied(PageError):
    """The user said no on the IMS consent page (RFC 6749 §4.1.2.1 access_denied)."""

    status_code = 403
    code = "access_denied"
    title = "Sign-in was cancelled"


class AuthorizationFailed(PageError):
    """IMS sent the user back with an error other than access_denied (RFC 6749 §4.1.2.1)."""

    code = "authorization_error"
    title = "Adobe could not sign you in"


class TokenExchangeFailed(PageError):
    """IMS refused to trade the code for tokens (RFC 6749 §5.2)."""

    code = "token_error"
    title = "Adobe could not complete the sign-in"


class IdTokenRejected(PageError):
    """The ID token failed validation (OIDC Core §3.1.3.7)."""

    code = "invalid_id_token"
    title = "The sign-in could not be verified"


class CsrfRejected(PageError):
    """A state-changing POST without this session's CSRF token."""

    status_code = 403
    code = "csrf"
    title = "Request refused"


class ServiceUnavailable(PageError):
    """IMS or Lightroom could not be reached, was too slow, or answered nonsense."""

    status_code = 503
    code = "service_unavailable"
    title = "Adobe is not answering right now"


class LoginRequired(Exception):
    """The user has no usable tokens (none stored, refresh refused): they must sign in again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AccessTokenRejected(Exception):
    """An API refused the access token as invalid or expired (401, or Lightroom's 403 code 4300)."""

    def __init__(self, service: str, status_code: int) -> None:
        super().__init__(f"{service} refused the access token (HTTP {status_code})")
        self.service = service
        self.status_code = status_code
