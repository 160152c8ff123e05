"""The OAuth error family: one class per wire error code, each naming the spec section.

Endpoints raise these; `mock_ims.http.responses.error_response` turns them into the answer the
client sees (JSON, a redirect back to the client, a 401 with `WWW-Authenticate`, or an HTML page).
"""

from __future__ import annotations

from typing import ClassVar


class OAuthError(Exception):
    """Base of every error the mock answers with an OAuth `error` code."""

    error: ClassVar[str] = "server_error"
    status_code: int = 400

    def __init__(
        self, description: str, *, reason: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(description)
        self.description = description
        # The reason is what the journal records; it may say more than the client is told.
        self.reason = reason or description
        if status_code is not None:
            self.status_code = status_code

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidRequestError(OAuthError):
    """RFC 6749 §4.1.2.1, §5.2: a parameter is missing, repeated, malformed or unsupported."""

    error = "invalid_request"


class MethodNotAllowedError(InvalidRequestError):
    """RFC 9110 §15.5.6: the method is not served here; the answer names those that are."""

    status_code: int = 405

    def __init__(self, description: str, *, allow: str, reason: str | None = None) -> None:
        super().__init__(description, reason=reason)
        self.allow = allow


class InvalidClientError(OAuthError):
    """RFC 6749 §5.2: client authentication failed (IMS answers 400, not 401)."""

    error = "invalid_client"


class InvalidGrantError(OAuthError):
    """RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked or already used."""

    error = "invalid_grant"


class UnauthorizedClientError(OAuthError):
    """RFC 6749 §4.1.2.1, §5.2: this client may not use this grant or response type."""

    error = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthError):
    """RFC 6749 §5.2: the grant type is not supported."""

    error = "unsupported_grant_type"


class UnsupportedResponseTypeError(OAuthError):
    """RFC 6749 §4.1.2.1: the response type is not supported."""

    error = "unsupported_response_type"


class InvalidScopeError(OAuthError):
    """RFC 6749 §4.1.2.1, §5.2: a scope is malformed, unknown, or not allowed for the client."""

    error = "invalid_scope"


class AccessDeniedError(OAuthError):
    """RFC 6749 §4.1.2.1: the user denied the request."""

    error = "access_denied"


class LoginRequiredError(OAuthError):
    """OIDC Core §3.1.2.6: `prompt=none` and no signed-in user."""

    error = "login_required"


class InvalidTokenError(OAuthError):
    """RFC 6750 §3.1: the bearer token is missing, malformed, expired or revoked (401)."""

    error = "invalid_token"
    status_code: int = 401


class InsufficientScopeError(OAuthError):
    """RFC 6750 §3.1: the bearer token lacks a scope the resource needs (403)."""

    error = "insufficient_scope"
    status_code: int = 403


class AuthorizationRedirect(Exception):
    """An authorize error that goes back to the client's redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(
        self, error: OAuthError, *, redirect_uri: str, state: str | None, response_mode: str
    ) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state
        self.response_mode = response_mode


class ErrorPage(Exception):
    """An error shown to the user as an HTML page, never redirected (RFC 6749 §4.1.2.1 ¶1)."""

    def __init__(self, message: str, *, status_code: int = 400, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.reason = reason or message
