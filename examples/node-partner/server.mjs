// A Lightroom partner app in Node.js that signs users in with Adobe IMS: the authorization
// code flow with state, nonce and PKCE (S256), the code exchanged from the server with HTTP
// Basic client authentication, the ID token checked, the IMS profile shown, the access token
// refreshed when IMS answers 401, and the grant revoked at sign-out.
//
// Standard library only (Node >= 18: global fetch, crypto JWK keys). Sessions and tokens live
// in this process's memory: nothing is written to disk, and a restart signs everyone out.
//
//   IMS_BASE_URL=... IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... node server.mjs
//
// Environment: IMS_BASE_URL, IMS_CLIENT_ID, IMS_CLIENT_SECRET (required); REDIRECT_URI
// (default http://HOST:PORT/callback), HOST (default 127.0.0.1), PORT (default 8000, 0 for any).

import crypto from 'node:crypto';
import http from 'node:http';

const SCOPES = ['openid', 'AdobeID', 'lr_partner_apis', 'offline_access'];
const SESSION_COOKIE = 'np_session';
const LOGIN_LIFETIME_MS = 10 * 60 * 1000; // a pending sign-in
const ANONYMOUS_SESSION_MS = 60 * 60 * 1000;
const SESSION_MS = 14 * 24 * 60 * 60 * 1000; // as long as an IMS refresh token lives
const ID_TOKEN_LEEWAY_S = 120;
const HTTP_TIMEOUT_MS = 10_000;

// ---- configuration ---------------------------------------------------------------------------

function readConfig(env) {
  const problems = [];
  const required = (name) => {
    const value = (env[name] || '').trim();
    if (!value) problems.push(`${name}: missing`);
    return value;
  };
  const config = {
    imsBaseUrl: required('IMS_BASE_URL').replace(/\/+$/, ''),
    clientId: required('IMS_CLIENT_ID'),
    clientSecret: required('IMS_CLIENT_SECRET'),
    redirectUri: (env.REDIRECT_URI || '').trim() || null,
    host: (env.HOST || '').trim() || '127.0.0.1',
    port: Number.parseInt(env.PORT || '8000', 10),
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    problems.push(`PORT: ${JSON.stringify(env.PORT)} is not a port number (0-65535)`);
  }
  if (problems.length) {
    console.error(`node-partner: the configuration has ${problems.length} problem(s):`);
    for (const problem of problems) console.error(`  ${problem}`);
    process.exit(2);
  }
  return config;
}

const config = readConfig(process.env);

// ---- small helpers ---------------------------------------------------------------------------

const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url');
const sha256 = (text) => crypto.createHash('sha256').update(text).digest();

function sameSecret(a, b) {
  const left = Buffer.from(String(a ?? ''));
  const right = Buffer.from(String(b ?? ''));
  return left.length === right.length && left.length > 0 && crypto.timingSafeEqual(left, right);
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// RFC 6749 §2.3.1: client id and secret are form-urlencoded before they go into Basic.
const formEncode = (value) => new URLSearchParams({ v: value }).toString().slice(2);
const basicAuth = () =>
  'Basic ' + Buffer.from(`${formEncode(config.clientId)}:${formEncode(config.clientSecret)}`).toString('base64');

class ImsError extends Error {
  constructor(status, error, message) {
    super(message || `IMS answered HTTP ${status}${error ? ` (${error})` : ''}`);
    this.status = status;
    this.error = error;
  }
}

async function callIms(url, options = {}) {
  let response;
  try {
    response = await fetch(url, { ...options, redirect: 'manual', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (err) {
    throw new ImsError(0, null, `IMS could not be reached (${err.name})`);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: response.status, body };
}

// ---- IMS: discovery, tokens, profile ---------------------------------------------------------

let discovery = null;
let jwks = null;

async function discover() {
  if (discovery) return discovery;
  const { status, body } = await callIms(`${config.imsBaseUrl}/ims/.well-known/openid-configuration`);
  if (status !== 200 || !body || !body.authorization_endpoint || !body.token_endpoint) {
    throw new ImsError(status, null, 'IMS discovery failed');
  }
  discovery = body;
  return discovery;
}

async function tokenRequest(form) {
  const { token_endpoint: endpoint } = await discover();
  const { status, body } = await callIms(endpoint, {
    method: 'POST',
    headers: { Authorization: basicAuth(), Accept: 'application/json' },
    body: new URLSearchParams(form),
  });
  if (status === 200 && body && typeof body.access_token === 'string') return body;
  throw new ImsError(status, body && typeof body.error === 'string' ? body.error : null);
}

async function revoke(token, hint) {
  const endpoint = (await discover()).revocation_endpoint || `${config.imsBaseUrl}/ims/revoke`;
  const { status } = await callIms(endpoint, {
    method: 'POST',
    headers: { Authorization: basicAuth() },
    body: new URLSearchParams({ token, token_type_hint: hint }),
  });
  return status === 200;
}

async function fetchProfile(accessToken) {
  // RFC 6750 §2.1: the token in the Authorization header, never in the URL.
  const { status, body } = await callIms(`${config.imsBaseUrl}/ims/profile/v1`, {
    headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
  });
  if (status === 200 && body && typeof body === 'object') return body;
  throw new ImsError(status, null, status === 401 ? 'access token refused' : undefined);
}

async function signingKey(kid) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (!jwks || attempt === 1) {
      const { status, body } = await callIms((await discover()).jwks_uri);
      if (status !== 200 || !body || !Array.isArray(body.keys)) throw new ImsError(status, null, 'no JWKS');
      jwks = body;
    }
    const jwk = jwks.keys.find((key) => key.kid === kid) || (kid ? null : jwks.keys[0]);
    if (jwk) return crypto.createPublicKey({ key: jwk, format: 'jwk' });
  }
  throw new Error(`no signing key ${kid}`);
}

// OIDC Core §3.1.3.7: signature (RS256), iss, aud, exp, iat and the nonce this sign-in sent.
async function verifyIdToken(idToken, nonce) {
  const parts = String(idToken || '').split('.');
  if (parts.length !== 3) throw new Error('the ID token is not a JWT');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
  if (header.alg !== 'RS256') throw new Error(`the ID token is signed with ${header.alg}`);
  const key = await signingKey(header.kid);
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  if (!crypto.verify('RSA-SHA256', signed, key, Buffer.from(parts[2], 'base64url'))) {
    throw new Error('the ID token signature does not verify');
  }
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  const issuer = String((await discover()).issuer || '').replace(/\/+$/, '');
  const now = Date.now() / 1000;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (![issuer, `${issuer}/ims`].includes(String(claims.iss).replace(/\/+$/, ''))) throw new Error('wrong issuer');
  if (!audiences.includes(config.clientId)) throw new Error('the ID token is for another client');
  if (!(claims.exp + ID_TOKEN_LEEWAY_S > now)) throw new Error('the ID token has expired');
  if (!(claims.iat - ID_TOKEN_LEEWAY_S < now)) throw new Error('the ID token is issued in the future');
  if (!sameSecret(claims.nonce, nonce)) throw new Error('the ID token nonce is not this sign-in\'s');
  if (typeof claims.sub !== 'string' || !claims.sub) throw new Error('the ID token names no user');
  return claims;
}

// ---- sessions: a random id in an HttpOnly cookie, everything else on the server -----------------

const sessions = new Map(); // SHA-256 of the cookie value -> session

function newSession(userId = null, tokens = null) {
  const now = Date.now();
  for (const [key, session] of sessions) if (session.expires <= now) sessions.delete(key);
  const id = randomToken();
  const session = {
    id,
    userId,
    tokens,
    csrf: randomToken(),
    pending: null,
    refreshing: null,
    expires: now + (userId ? SESSION_MS : ANONYMOUS_SESSION_MS),
  };
  sessions.set(sha256(id).toString('hex'), session);
  return session;
}

function loadSession(req) {
  const cookies = Object.fromEntries(
    (req.headers.cookie || '').split(';').map((pair) => pair.trim().split('=')).filter((p) => p.length === 2),
  );
  const id = cookies[SESSION_COOKIE];
  if (!id || id.length > 128) return null;
  const key = sha256(id).toString('hex');
  const session = sessions.get(key);
  if (!session) return null;
  if (session.expires <= Date.now()) {
    sessions.delete(key);
    return null;
  }
  return session;
}

const endSession = (session) => sessions.delete(sha256(session.id).toString('hex'));
const secure = () => (redirectUri().startsWith('https://') ? '; Secure' : '');
const sessionCookie = (session) =>
  `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax${secure()}; Max-Age=${Math.floor((session.expires - Date.now()) / 1000)}`;
const clearedCookie = () => `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax${secure()}; Max-Age=0`;

// ---- using the tokens: refresh on 401, one refresh at a time per session -----------------------

class LoginRequired extends Error {}

async function refresh(session) {
  session.refreshing ??= (async () => {
    try {
      const body = await tokenRequest({ grant_type: 'refresh_token', refresh_token: session.tokens.refresh });
      // IMS rotates the refresh token: keep the new one (the old one is spent).
      session.tokens = { access: body.access_token, refresh: body.refresh_token || session.tokens.refresh };
    } catch (err) {
      if (err instanceof ImsError && err.status >= 400 && err.status < 500) {
        session.tokens = null; // invalid_grant: revoked, expired or used; sign in again
        throw new LoginRequired('IMS refused the refresh token');
      }
      throw err;
    } finally {
      session.refreshing = null;
    }
  })();
  return session.refreshing;
}

async function withAccessToken(session, use) {
  if (!session.tokens) throw new LoginRequired('no tokens');
  try {
    return await use(session.tokens.access);
  } catch (err) {
    if (!(err instanceof ImsError && err.status === 401) || !session.tokens.refresh) throw err;
  }
  await refresh(session);
  return use(session.tokens.access);
}

// ---- pages -----------------------------------------------------------------------------------

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer', // the callback URL carries a code
  'X-Content-Type-Options': 'nosniff',
};

function page(res, status, title, body, headers = {}) {
  res.writeHead(status, { ...PAGE_HEADERS, ...headers });
  res.end(
    `<!doctype html><html lang=en><head><meta charset=utf-8><title>${escapeHtml(title)}</title>` +
      '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto}</style></head>' +
      `<body><main>${body}</main></body></html>`,
  );
}

function errorPage(res, status, title, message, headers = {}) {
  page(res, status, title, `<h1 id=error-title>${escapeHtml(title)}</h1><p id=error-message>${escapeHtml(message)}</p><p><a href="/">Back to the start page</a></p>`, headers);
}

function redirect(res, location, status = 303, headers = {}) {
  res.writeHead(status, { Location: location, 'Cache-Control': 'no-store', ...headers });
  res.end();
}

const NOTICES = {
  'signed-out': 'You are signed out, and your Adobe tokens were revoked.',
  'session-ended': 'Your Adobe sign-in has ended. Please sign in again.',
};

// ---- routes ----------------------------------------------------------------------------------

let boundUrl = null;
const redirectUri = () => config.redirectUri || `${boundUrl}/callback`;
const callbackPath = () => new URL(redirectUri()).pathname;

async function home(req, res, url) {
  const session = loadSession(req);
  const notice = NOTICES[url.searchParams.get('notice')];
  const action = session && session.userId
    ? '<p><a id=profile-link href="/profile">Your profile</a></p>'
    : '<p><a id=sign-in href="/login">Sign in with Adobe</a></p>';
  page(res, 200, 'Node partner', `<h1>Node partner</h1>${notice ? `<p id=notice>${escapeHtml(notice)}</p>` : ''}${action}`);
}

async function login(req, res) {
  const session = loadSession(req) || newSession();
  const verifier = randomToken(64); // RFC 7636 §4.1: 43-128 characters
  session.pending = { state: randomToken(), nonce: randomToken(), verifier, expires: Date.now() + LOGIN_LIFETIME_MS };
  const authorize = new URL((await discover()).authorization_endpoint);
  const params = {
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: SCOPES.join(','),
    response_type: 'code',
    state: session.pending.state,
    nonce: session.pending.nonce,
    code_challenge: sha256(verifier).toString('base64url'), // RFC 7636 §4.2, S256
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(params)) authorize.searchParams.set(name, value);
  redirect(res, authorize.toString(), 302, { 'Set-Cookie': sessionCookie(session) });
}

async function callback(req, res, url) {
  const params = url.searchParams;
  const session = loadSession(req);
  // RFC 6749 §10.12: the state must be the one this browser's session is waiting for. Any
  // callback spends the pending sign-in, so a state is good for one callback only.
  const pending = session ? session.pending : null;
  if (session) session.pending = null;
  if (params.has('error')) {
    if (params.get('error') === 'access_denied') {
      return errorPage(res, 403, 'Sign-in was cancelled', 'You chose not to let this app use your Adobe account.');
    }
    return errorPage(res, 400, 'Adobe could not sign you in', 'Adobe answered the sign-in with an error. Please try again.');
  }
  if (!pending || !sameSecret(params.get('state'), pending.state) || pending.expires <= Date.now()) {
    console.warn('refused a callback: its state is not the one this browser is waiting for');
    return errorPage(res, 400, 'This sign-in link is not valid here', 'Please sign in again.');
  }
  const code = params.get('code');
  if (!code) return errorPage(res, 400, 'Adobe could not sign you in', 'Adobe sent no authorization code.');
  let body;
  try {
    body = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      code_verifier: pending.verifier,
      redirect_uri: redirectUri(),
    });
  } catch (err) {
    if (err instanceof ImsError && err.status >= 400 && err.status < 500) {
      return errorPage(res, 400, 'Adobe could not complete the sign-in', `Adobe refused the sign-in (${err.error || err.status}).`);
    }
    console.warn(`the token endpoint failed: ${err.message}`);
    return errorPage(res, 502, 'Adobe is not answering right now', 'Adobe could not complete the sign-in. Please try again soon.');
  }
  const tokens = { access: body.access_token, refresh: body.refresh_token || null };
  let claims;
  try {
    claims = await verifyIdToken(body.id_token, pending.nonce);
  } catch (err) {
    console.warn(`refused an ID token: ${err.message}`);
    await Promise.allSettled([tokens.refresh && revoke(tokens.refresh, 'refresh_token'), revoke(tokens.access, 'access_token')]);
    return errorPage(res, 400, 'The sign-in could not be verified', 'Adobe\'s answer could not be verified. Please sign in again.');
  }
  endSession(session); // a new session id at sign-in (session fixation)
  const signedIn = newSession(claims.sub, tokens);
  redirect(res, '/profile', 303, { 'Set-Cookie': sessionCookie(signedIn) });
}

async function profile(req, res) {
  const session = loadSession(req);
  if (!session || !session.userId) return redirect(res, '/');
  let doc;
  try {
    doc = await withAccessToken(session, fetchProfile);
  } catch (err) {
    if (err instanceof LoginRequired || (err instanceof ImsError && err.status === 401)) {
      endSession(session);
      return redirect(res, '/?notice=session-ended', 303, { 'Set-Cookie': clearedCookie() });
    }
    console.warn(`the profile could not be fetched: ${err.message}`);
    return errorPage(res, 503, 'Adobe is not answering right now', 'Your Adobe profile could not be fetched. Please try again soon.');
  }
  const name = doc.displayName || doc.name || '(no name)';
  const email = doc.email || '(no email)';
  page(
    res,
    200,
    'Your profile',
    '<h1>Your profile</h1>' +
      `<dl><dt>Name</dt><dd id=display-name>${escapeHtml(name)}</dd><dt>Email</dt><dd id=email>${escapeHtml(email)}</dd></dl>` +
      `<form method=post action="/logout"><input type=hidden name=csrf value="${escapeHtml(session.csrf)}">` +
      '<button id=sign-out type=submit>Sign out</button></form>',
  );
}

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function logout(req, res) {
  const session = loadSession(req);
  if (!session) return redirect(res, '/');
  const form = await readForm(req);
  if (!sameSecret(form.get('csrf'), session.csrf)) {
    return errorPage(res, 403, 'Request refused', 'The sign-out request did not come from this app\'s own page.');
  }
  const tokens = session.tokens;
  endSession(session);
  if (tokens) {
    // RFC 7009: the refresh token first; at IMS it takes the grant's access tokens with it.
    await Promise.allSettled([tokens.refresh && revoke(tokens.refresh, 'refresh_token'), revoke(tokens.access, 'access_token')]);
  }
  redirect(res, '/?notice=signed-out', 303, { 'Set-Cookie': clearedCookie() });
}

async function route(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const key = `${req.method} ${url.pathname}`;
  if (key === 'GET /') return home(req, res, url);
  if (key === 'GET /login') return login(req, res);
  if (key === `GET ${callbackPath()}`) return callback(req, res, url);
  if (key === 'GET /profile') return profile(req, res);
  if (key === 'POST /logout') return logout(req, res);
  if (key === 'GET /healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end('ok');
  }
  errorPage(res, 404, 'Not found', 'There is no such page here.');
}

const server = http.createServer((req, res) => {
  route(req, res)
    .catch((err) => {
      // A bug, not an IMS problem: a plain page, never a stack trace (the log has the message).
      console.error(`unexpected ${err.name} on ${req.method} ${new URL(req.url, 'http://localhost').pathname}: ${err.message}`);
      if (!res.headersSent) errorPage(res, 500, 'Something went wrong', 'The app hit an unexpected problem.');
      else res.end();
    })
    .finally(() => {
      // Method, path and status only: the callback's query string carries a code.
      console.log(`${req.method} ${new URL(req.url, 'http://localhost').pathname} ${res.statusCode}`);
    });
});

server.listen(config.port, config.host, () => {
  const { port } = server.address();
  boundUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  console.log(`node-partner listening at ${boundUrl}/ (redirect URI ${redirectUri()})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive connections would hold close() open
  });
}
