// A small Lightroom partner app with Adobe's real hostnames hard-coded, as in Adobe's samples:
// fetch for IMS, axios for Lightroom. Nothing in it knows about mock-ims.
//   IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... node app.mjs --port 8000
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import axios from "axios";

const IMS = "https://ims-na1.adobelogin.com";
const LIGHTROOM = "https://lr.adobe.io";
const SCOPE = "openid,AdobeID,lr_partner_apis,offline_access,email,profile";
const clientId = process.env.IMS_CLIENT_ID ?? "";
const clientSecret = process.env.IMS_CLIENT_SECRET ?? "";
const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 8000;
const sessions = new Map();

const random = (bytes) => randomBytes(bytes).toString("base64url");
const s256 = (verifier) => createHash("sha256").update(verifier).digest("base64url");
const basic = "Basic " + Buffer.from(`${clientId}:${clientSecret}`).toString("base64");
const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const sameText = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function session(request, response) {
  const match = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.cookie ?? "");
  let sid = match?.[1];
  if (!sid || !sessions.has(sid)) {
    sid = random(32);
    sessions.set(sid, {});
  }
  response.setHeader("Set-Cookie", `sid=${sid}; HttpOnly; SameSite=Lax; Path=/`);
  return sessions.get(sid);
}

function send(response, status, body, location) {
  response.statusCode = status;
  response.setHeader("Content-Type", "text/html; charset=utf-8");
  response.setHeader("Cache-Control", "no-store");
  if (location) response.setHeader("Location", location);
  response.end(`<!doctype html><title>Partner app</title><body>${body}</body>`);
}

async function tokenRequest(form) {
  const answer = await fetch(`${IMS}/ims/token/v3`, {
    method: "POST",
    headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: answer.status, body: answer.status === 200 ? await answer.json() : null };
}

async function profileOf(accessToken) {
  const answer = await fetch(`${IMS}/ims/profile/v1`, { headers: { Authorization: `Bearer ${accessToken}` } });
  return { status: answer.status, body: answer.status === 200 ? await answer.json() : null };
}

async function accountOf(accessToken) {
  // Lightroom prefixes its JSON with `while (1) {}`: read it as text.
  const answer = await axios.get(`${LIGHTROOM}/v2/account`, {
    headers: { Authorization: `Bearer ${accessToken}`, "X-API-Key": clientId },
    responseType: "text",
    transformResponse: (text) => text,
    validateStatus: () => true,
  });
  const text = String(answer.data).replace(/^while\s*\(\s*1\s*\)\s*{\s*}\s*/, "");
  return { status: answer.status, body: answer.status === 200 ? JSON.parse(text) : null };
}

async function withRefresh(state, call) {
  let answer = await call(state.tokens.access_token);
  if (answer.status === 200) return answer.body;
  if (answer.status !== 401 && answer.status !== 403) throw new Error(`the call answered ${answer.status}`);
  if (!state.tokens.refresh_token) return null;
  const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: state.tokens.refresh_token });
  if (refreshed.status !== 200) return null;
  state.tokens = {
    access_token: refreshed.body.access_token,
    refresh_token: refreshed.body.refresh_token ?? state.tokens.refresh_token,
  };
  answer = await call(state.tokens.access_token);
  return answer.status === 200 ? answer.body : null;
}

const routes = {
  "/": (request, response) => send(response, 200, '<h1>Partner app</h1><a id=sign-in href="/login">Sign in with Adobe</a>'),

  "/login": (request, response) => {
    const state = session(request, response);
    state.pending = { state: random(32), verifier: random(48) };
    const params = new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: SCOPE,
      response_type: "code",
      state: state.pending.state,
      code_challenge: s256(state.pending.verifier),
      code_challenge_method: "S256",
    });
    send(response, 302, "", `${IMS}/ims/authorize/v2?${params}`);
  },

  "/callback": async (request, response, query) => {
    const state = session(request, response);
    const pending = state.pending;
    delete state.pending;
    if (!pending || !sameText(query.get("state") ?? "", pending.state)) {
      return send(response, 400, "<h1>Sign-in failed</h1><p id=error>This sign-in was not started here.</p>");
    }
    if (query.has("error") || !query.has("code")) {
      return send(response, 400, `<h1>Sign-in failed</h1><p id=error>Adobe said: ${escape(query.get("error") ?? "no code")}</p>`);
    }
    const answer = await tokenRequest({
      grant_type: "authorization_code",
      code: query.get("code"),
      redirect_uri: redirectUri,
      code_verifier: pending.verifier,
    });
    if (answer.status !== 200) throw new Error(`the token endpoint answered ${answer.status}`);
    state.tokens = { access_token: answer.body.access_token, refresh_token: answer.body.refresh_token };
    send(response, 303, "<p>Signed in</p>", "/profile");
  },

  "/profile": async (request, response) => {
    const state = session(request, response);
    if (!state.tokens) return send(response, 401, '<h1>Not signed in</h1><a id=sign-in href="/login">Sign in with Adobe</a>');
    const profile = await withRefresh(state, profileOf);
    if (!profile) return send(response, 303, "<p>Please sign in again</p>", "/login");
    const account = await withRefresh(state, accountOf);
    send(
      response,
      200,
      `<h1>Signed in</h1><p id=name>${escape(profile.name ?? profile.displayName ?? "")}</p>` +
        `<p id=email>${escape(profile.email ?? "")}</p>` +
        `<p>Lightroom account: <span id=lightroom>${escape(account?.email ?? "unavailable")}</span></p>`,
    );
  },
};

const server = createServer(async (request, response) => {
  const url = new URL(request.url, "http://127.0.0.1");
  const route = routes[url.pathname];
  if (!route || request.method !== "GET") return send(response, 404, "<h1>Not found</h1>");
  try {
    await route(request, response, url.searchParams);
  } catch (error) {
    send(response, 502, `<h1>Adobe sign-in is not available</h1><p id=error>${escape(error.message)}</p>`);
  }
});

let redirectUri = "";
server.listen(port, "127.0.0.1", () => {
  const actual = server.address().port;
  redirectUri = process.env.REDIRECT_URI ?? `http://127.0.0.1:${actual}/callback`;
  console.log(`partner app on http://127.0.0.1:${actual} (IMS ${IMS}, Lightroom ${LIGHTROOM})`);
});
