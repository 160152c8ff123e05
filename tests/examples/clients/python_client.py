"""The server side of a sign-in with one Python HTTP library, the hostnames hard-coded and no
proxy or CA named: only the environment sends it through mock-ims's proxy.

    python python_client.py requests|httpx|urllib CODE CLIENT_ID CLIENT_SECRET REDIRECT_URI
Prints {"email": ..., "lightroom_email": ...}.
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.request
from typing import Any
from urllib.parse import urlencode

TOKEN = "https://ims-na1.adobelogin.com/ims/token/v3"
PROFILE = "https://ims-na1.adobelogin.com/ims/profile/v1"
ACCOUNT = "https://lr.adobe.io/v2/account"


def lightroom_json(text: str) -> Any:
    return json.loads(text.split("\n", 1)[1])


def with_requests(form: dict[str, str], client: tuple[str, str]) -> tuple[Any, Any]:
    import requests

    token = requests.post(TOKEN, data=form, auth=client, timeout=10).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    profile = requests.get(PROFILE, headers=bearer, timeout=10).json()
    account = requests.get(ACCOUNT, headers={**bearer, "X-API-Key": client[0]}, timeout=10).text
    return profile, lightroom_json(account)


def with_httpx(form: dict[str, str], client: tuple[str, str]) -> tuple[Any, Any]:
    import httpx

    with httpx.Client(timeout=10) as http:
        token = http.post(TOKEN, data=form, auth=client).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        profile = http.get(PROFILE, headers=bearer).json()
        account = http.get(ACCOUNT, headers={**bearer, "X-API-Key": client[0]}).text
    return profile, lightroom_json(account)


def with_urllib(form: dict[str, str], client: tuple[str, str]) -> tuple[Any, Any]:
    basic = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
    request = urllib.request.Request(
        TOKEN, data=urlencode(form).encode(), headers={"Authorization": f"Basic {basic}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        token = json.load(answer)["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    with urllib.request.urlopen(urllib.request.Request(PROFILE, headers=bearer), timeout=10) as answer:
        profile = json.load(answer)
    lightroom = urllib.request.Request(ACCOUNT, headers={**bearer, "X-API-Key": client[0]})
    with urllib.request.urlopen(lightroom, timeout=10) as answer:
        account = answer.read().decode()
    return profile, lightroom_json(account)


def main() -> None:
    library, code, client_id, client_secret, redirect_uri = sys.argv[1:6]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    call = {"requests": with_requests, "httpx": with_httpx, "urllib": with_urllib}[library]
    profile, account = call(form, (client_id, client_secret))
    print(json.dumps({"email": profile["email"], "lightroom_email": account["email"]}))


if __name__ == "__main__":
    main()
