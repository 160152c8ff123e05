"""What IMS and Lightroom say about a user: userinfo, profile, ID token claims, LR account.

Shapes follow docs/ims-facts.md §5. Which claims userinfo releases depends on the scopes; IMS does
not document what `AdobeID` releases, so the mock treats it like `profile` plus `email`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mock_ims.config import UserConfig

_ACCOUNT_TYPE_OIDC = {"type1": "ind", "type2": "ent", "type3": "ent"}


def _wants_profile(scopes: tuple[str, ...]) -> bool:
    return "profile" in scopes or "AdobeID" in scopes


def _wants_email(scopes: tuple[str, ...]) -> bool:
    return "email" in scopes or "AdobeID" in scopes


def userinfo(user: UserConfig, scopes: tuple[str, ...]) -> dict[str, Any]:
    """`/ims/userinfo/v2` (OIDC Core §5.3.2), projected by scope."""
    info: dict[str, Any] = {"sub": user.user_id}
    if _wants_profile(scopes):
        info["account_type"] = _ACCOUNT_TYPE_OIDC.get(user.account_type, "ind")
        info["name"] = user.display_name
        info["given_name"] = user.first_name
        info["family_name"] = user.last_name
    if _wants_email(scopes):
        info["email_verified"] = True
        info["email"] = user.email
    if "address" in scopes:
        info["address"] = {"country": user.country_code}
    return info


def id_token_claims(user: UserConfig, scopes: tuple[str, ...]) -> dict[str, Any]:
    claims = userinfo(user, scopes)
    claims.pop("sub")
    claims.pop("account_type", None)
    return claims


def profile(user: UserConfig) -> dict[str, Any]:
    """`/ims/profile/v1`: the shape of a real IMS profile (string booleans included)."""
    return {
        "account_type": user.account_type,
        "utcOffset": "null",
        "preferred_languages": list(user.preferred_languages),
        "displayName": user.display_name,
        "last_name": user.last_name,
        "userId": user.user_id,
        "authId": user.user_id,
        "tags": ["agegroup_18plus"],
        "emailVerified": "true",
        "phoneNumber": None,
        "countryCode": user.country_code,
        "name": user.display_name,
        "mrktPerm": "EMAIL:false",
        "mrktPermEmail": "false",
        "first_name": user.first_name,
        "email": user.email,
    }


def legacy_token_claims(user: UserConfig) -> dict[str, Any]:
    """Profile claims the legacy `/ims/token` (v1) inlines into its response."""
    return {
        "sub": user.user_id,
        "address": {"country": user.country_code},
        "email_verified": "true",
        "name": user.display_name,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "email": user.email,
    }


def lightroom_account(user: UserConfig, base: str) -> dict[str, Any]:
    """Lightroom `/v2/account` (docs/ims-facts.md §5), with the user's entitlement."""
    account_id = hashlib.sha256(user.user_id.encode()).hexdigest()[:32]
    return {
        "base": base,
        "id": account_id,
        "type": "account",
        "created": "2017-09-12T17:22:41.751746Z",
        "updated": "2019-02-02T17:17:39.663862Z",
        "email": user.email,
        "full_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "wcd_guid": user.user_id.split("@", 1)[0],
        "country": user.country_code,
        "entitlement": {
            "status": user.entitlement,
            "storage": {
                "used": 11998409416,
                "warn": 85899345920,
                "limit": 112742891520,
                "display_limit": 107374182400,
            },
        },
    }
