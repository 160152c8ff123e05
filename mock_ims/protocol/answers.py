"""What the IMS endpoints and the Lightroom stub answer, as models: `/openapi.json` describes
the answers with them (the endpoints build their JSON themselves)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel

from mock_ims.protocol.bodies import Body

OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_token",
    "insufficient_scope",
    "server_error",
]


class OAuthError(Body):
    error: OAuthErrorCode
    error_description: str


class TokenResponse(Body):
    access_token: Annotated[str, Field(description="An IMS-shaped RS256 JWT.")]
    refresh_token: Annotated[
        str, Field(description="With `offline_access` (or if the client is set up so).")
    ] = ""
    sub: Annotated[str, Field(description="The user id (authorization_code grant).")] = ""
    id_token: Annotated[str, Field(description="With `openid` (authorization_code grant).")] = ""
    token_type: Literal["bearer"]
    expires_in: Annotated[int, Field(ge=0, description="Seconds on v3, milliseconds on the legacy versions.")]


class Address(Body):
    country: str


class TokenResponseV1(TokenResponse):
    """The legacy answer: the user's profile claims inlined (user grants only)."""

    address: Address | None = None
    email_verified: Literal["true"] = "true"
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""


class UserInfo(Body):
    sub: str
    account_type: Literal["ind", "ent"] = "ind"
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email_verified: bool = False
    email: str = ""
    address: Address | None = None


class Profile(Body):
    account_type: Literal["type1", "type2", "type3"]
    utcOffset: str = ""
    preferred_languages: list[str] = []
    displayName: str
    last_name: str
    userId: str
    authId: str = ""
    tags: list[str] = []
    emailVerified: Literal["true", "false"] = "true"
    phoneNumber: str | None = None
    countryCode: str = ""
    name: str = ""
    mrktPerm: str = ""
    mrktPermEmail: str = ""
    first_name: str
    email: str


class TokenValid(Body):
    valid: Literal[True]
    token: Annotated[dict[str, Any], Field(description="The token's claims.")]
    expires_at: Annotated[int, Field(description="Epoch milliseconds.")]


class TokenInvalid(Body):
    valid: Literal[False]
    reason: str


class ValidateTokenResult(RootModel[TokenValid | TokenInvalid]):
    pass


class JWK(Body):
    kty: Literal["RSA"]
    kid: str
    use: Literal["sig"]
    alg: Literal["RS256"]
    n: str
    e: str


class JWKS(Body):
    keys: list[JWK]


class OpenIDConfiguration(Body, extra="allow"):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str = ""
    revocation_endpoint: str = ""
    end_session_endpoint: str = ""
    jwks_uri: str
    response_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]


class LightroomError(Body):
    code: str | int
    description: str


class LightroomHealth(Body):
    version: Annotated[str, Field(pattern="^[0-9a-f]+$")]


class Entitlement(Body, extra="allow"):
    status: Literal["created", "trial", "trial_expired", "subscriber", "subscriber_expired"]
    storage: dict[str, int]


class LightroomAccount(Body, extra="allow"):
    base: str
    id: str
    type: Literal["account"]
    created: str = ""
    updated: str = ""
    email: str
    full_name: str = ""
    first_name: str = ""
    last_name: str = ""
    wcd_guid: str = ""
    country: str = ""
    entitlement: Entitlement


class LightroomCatalog(Body, extra="allow"):
    base: str
    id: str
    type: Literal["catalog"]
    subtype: str = ""
    created: str = ""
    updated: str = ""
    payload: dict[str, Any]
    links: dict[str, Any]
