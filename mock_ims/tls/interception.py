"""What a partner app, a browser or a person needs to go through the intercepting proxy.

`Interception` describes a running proxy: its URL, the CA to trust and the hosts it serves. It
renders the environment that makes Python (`requests`, `httpx`, `urllib`), Node (`axios`, and
`fetch` through undici's `EnvHttpProxyAgent`), Go and curl use the proxy and trust the CA, the
JVM options for Java, and the Playwright and Chromium settings for a browser.
"""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = ("localhost", "127.0.0.1", "::1")
JAVA_TRUSTSTORE_PASSWORD = "changeit"


@dataclass(frozen=True)
class Interception:
    proxy_url: str  # http://127.0.0.1:PORT
    ca_path: Path
    ca_spki_sha256: str  # base64, for Chromium's --ignore-certificate-errors-spki-list
    hosts: tuple[str, ...]

    @property
    def proxy_host(self) -> str:
        return self.proxy_url.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def proxy_port(self) -> int:
        return int(self.proxy_url.rsplit(":", 1)[1])

    def environment(self) -> dict[str, str]:
        """Variables for the partner process: proxy for HTTPS, direct for loopback, the CA trusted.

        `SSL_CERT_FILE` (Python's `ssl`, httpx, urllib, Go), `REQUESTS_CA_BUNDLE` and
        `CURL_CA_BUNDLE` replace the system's CA list: the app can then reach only the
        intercepted hosts over HTTPS, which is all the proxy serves anyway.
        `NODE_EXTRA_CA_CERTS` adds to Node's list.
        """
        ca = str(self.ca_path)
        no_proxy = ",".join(LOOPBACK)
        return {
            "HTTPS_PROXY": self.proxy_url,
            "https_proxy": self.proxy_url,
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
            "SSL_CERT_FILE": ca,
            "REQUESTS_CA_BUNDLE": ca,
            "CURL_CA_BUNDLE": ca,
            "NODE_EXTRA_CA_CERTS": ca,
            "NODE_USE_ENV_PROXY": "1",  # Node >= 22.21 / 24.5: fetch and http honour HTTPS_PROXY
        }

    def java_options(self, truststore: Path, password: str = JAVA_TRUSTSTORE_PASSWORD) -> str:
        """`JAVA_TOOL_OPTIONS` for a JVM, with a truststore made by `keytool_command`."""
        options = [
            f"-Dhttps.proxyHost={self.proxy_host}",
            f"-Dhttps.proxyPort={self.proxy_port}",
            "-Dhttp.nonProxyHosts=localhost|127.0.0.1",
            f"-Djavax.net.ssl.trustStore={truststore}",
            f"-Djavax.net.ssl.trustStorePassword={password}",
            "-Djavax.net.ssl.trustStoreType=PKCS12",
        ]
        return " ".join(options)

    def keytool_command(self, truststore: Path, password: str = JAVA_TRUSTSTORE_PASSWORD) -> list[str]:
        """The `keytool` call that puts the local CA in a PKCS12 truststore of its own."""
        return [
            "keytool",
            "-importcert",
            "-noprompt",
            "-alias",
            "mock-ims-ca",
            "-file",
            str(self.ca_path),
            "-keystore",
            str(truststore),
            "-storetype",
            "PKCS12",
            "-storepass",
            password,
        ]

    def playwright_proxy(self) -> dict[str, str]:
        """Playwright's `proxy` option (launch or new_context): loopback stays direct."""
        return {"server": self.proxy_url, "bypass": ",".join(LOOPBACK)}

    def chromium_args(self) -> list[str]:
        """Flags that make Chromium trust certificates chained to the local CA (and no others)."""
        return [f"--ignore-certificate-errors-spki-list={self.ca_spki_sha256}"]

    def pac_script(self) -> str:
        """A proxy auto-config script sending only the intercepted hosts to the proxy."""
        hosts = " || ".join(f"host == {json.dumps(h)}" for h in self.hosts)
        return (
            "function FindProxyForURL(url, host) {\n"
            f'  if ({hosts}) return "PROXY {self.proxy_host}:{self.proxy_port}";\n'
            '  return "DIRECT";\n'
            "}\n"
        )

    def chromium_command(self, user_data_dir: str = "/tmp/mock-ims-chromium") -> list[str]:  # noqa: S108
        """A person's Chromium: only the intercepted hosts go to the proxy, the CA is trusted.

        Chromium honours the SPKI list only with its own `--user-data-dir`.
        """
        pac = base64.b64encode(self.pac_script().encode()).decode()
        return [
            "chromium",
            f"--user-data-dir={user_data_dir}",
            f"--proxy-pac-url=data:application/x-ns-proxy-autoconfig;base64,{pac}",
            *self.chromium_args(),
        ]

    def banner_lines(self) -> list[str]:
        env = self.environment()
        lines = [
            f"  proxy:          {self.proxy_url}  (intercepts {', '.join(self.hosts)})",
            f"  local CA:       {self.ca_path}",
            "  run your app unchanged with:",
        ]
        lines += [f"    export {name}={shlex.quote(value)}" for name, value in env.items()]
        lines += [
            "  a browser for a person:",
            f"    {shlex.join(self.chromium_command())}",
        ]
        return lines
