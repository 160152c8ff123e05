// Make Node's built-in fetch honour HTTPS_PROXY / NO_PROXY, as curl and axios already do.
// Node 20 (and 22 before 22.21) ignores those variables for fetch; newer Nodes do it with
// NODE_USE_ENV_PROXY=1 and need no preload. The app itself is not changed: load this with
//   NODE_OPTIONS="--import=/path/to/use-env-proxy.mjs"
// (undici must be installed where this file is). The CA comes from NODE_EXTRA_CA_CERTS.
import { EnvHttpProxyAgent, setGlobalDispatcher } from "undici";

if (process.env.HTTPS_PROXY || process.env.https_proxy) {
  setGlobalDispatcher(new EnvHttpProxyAgent());
}
