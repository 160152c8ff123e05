'use strict';
// A small Lightroom partner app: sign in with Adobe IMS, show the profile and the Lightroom account.
// Flawed on purpose (see README.md): look for "FLAW".

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const express = require('express');
const cookieSession = require('cookie-session');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
}

const IMS_URL = required('IMS_URL').replace(/\/+$/, '');
const CLIENT_ID = required('CLIENT_ID');
const CLIENT_SECRET = required('CLIENT_SECRET');
const REDIRECT_URI = required('REDIRECT_URI');
const LR_URL = (process.env.LR_URL || 'https://lr.adobe.io').replace(/\/+$/, '');
const PORT = Number(process.env.PORT || 8000);
const HOST = process.env.HOST || '127.0.0.1';
const DATA_DIR = process.env.DATA_DIR || path.join(__dirname, 'var');
const SESSION_SECRET = process.env.SESSION_SECRET || crypto.randomBytes(32).toString('base64url');
const HTTP_TIMEOUT_MS = 10_000;
// FLAW 1: no offline_access, so IMS issues no refresh token and the app can never refresh.
const SCOPE = 'openid,AdobeID,lr_partner_apis';
const CALLBACK_PATH = new URL(REDIRECT_URI).pathname;

// FLAW 4: an access log of every call to IMS, gzip-compressed, with the whole token response in it.
fs.mkdirSync(DATA_DIR, { recursive: true });
const accessLog = zlib.createGzip();
const accessLogFile = fs.createWriteStream(path.join(DATA_DIR, 'access.log.gz'), { flags: 'a' });
accessLog.pipe(accessLogFile);
function logImsCall(method, url, status, body) {
  const line = { time: new Date().toISOString(), method, url, status };
  if (body !== undefined) line.response = body;
  accessLog.write(JSON.stringify(line) + '\n');
  accessLog.flush(zlib.constants.Z_SYNC_FLUSH);
}

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

function page(res, status, title, body) {
  res.status(status).type('html').send(`<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

const errorPage = (res, status, message) =>
  page(res, status, 'Sign-in problem', `<p>${escapeHtml(message)}</p><p><a href="/">Back to the start page</a></p>`);

// Lightroom answers JSON behind "while (1) {}".
async function readJson(response) {
  const text = (await response.text()).replace(/^\s*while\s*\(1\)\s*\{\}\s*/, '');
  try { return JSON.parse(text); } catch { return null; }
}

async function redeemCode(code) {
  const url = `${IMS_URL}/ims/token/v3`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
    }),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const body = await readJson(response);
  logImsCall('POST', url, response.status, body); // FLAW 4: the tokens go to the log
  if (!response.ok || !body || typeof body.access_token !== 'string') {
    const reason = body && body.error ? body.error : `HTTP ${response.status}`;
    throw new Error(`token endpoint refused the code (${reason})`);
  }
  return body;
}

async function fetchProfile(accessToken) {
  const url = `${IMS_URL}/ims/profile/v1`;
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  logImsCall('GET', url, response.status);
  if (response.status === 401) return { expired: true };
  if (!response.ok) throw new Error(`IMS profile answered HTTP ${response.status}`);
  return { profile: await readJson(response) };
}

async function fetchLightroomAccount(accessToken) {
  const response = await fetch(`${LR_URL}/v2/account`, {
    headers: { Authorization: `Bearer ${accessToken}`, 'X-API-Key': CLIENT_ID, Accept: 'application/json' },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const body = await readJson(response);
  if (response.status === 401 || (response.status === 403 && body && String(body.code) === '4300')) {
    return { expired: true };
  }
  if (!response.ok) return { error: `Lightroom answered HTTP ${response.status}` };
  return { account: body };
}

const app = express();
app.disable('x-powered-by');
app.use((req, res, next) => {
  res.set({
    'Content-Security-Policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  next();
});
app.use(express.urlencoded({ extended: false, limit: '8kb' }));
// FLAW 2: the access token lives in this cookie; cookie-session signs it but does not encrypt it.
app.use(cookieSession({
  name: 'session',
  keys: [SESSION_SECRET],
  httpOnly: true,
  sameSite: 'lax',
  secure: REDIRECT_URI.startsWith('https:'),
  maxAge: 24 * 3600 * 1000,
}));

app.get('/', (req, res) => {
  const signedIn = req.session && req.session.accessToken;
  page(res, 200, 'Lightroom partner app', signedIn
    ? '<p>You are signed in. <a href="/profile">Your profile</a></p>'
    : '<p><a id="sign-in" href="/login">Sign in with Adobe</a></p>');
});

app.get('/login', (req, res) => {
  const state = crypto.randomBytes(32).toString('base64url');
  req.session.oauthState = state;
  const url = new URL(`${IMS_URL}/ims/authorize/v2`);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    scope: SCOPE,
    redirect_uri: REDIRECT_URI,
    state,
  }).toString();
  res.redirect(302, url.toString());
});

function stateMatches(expected, received) {
  if (typeof expected !== 'string' || typeof received !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

app.get(CALLBACK_PATH, async (req, res) => {
  const expected = req.session.oauthState;
  delete req.session.oauthState; // a state is good for one callback only
  const { state, code, error } = req.query;
  if (!stateMatches(expected, state)) {
    return errorPage(res, 400, 'This sign-in link is invalid or has expired. Please sign in again.');
  }
  if (error) {
    const message = error === 'access_denied'
      ? 'You declined to give this app access to your Adobe account.'
      : `Adobe sign-in did not complete (${String(error).slice(0, 100)}).`;
    return errorPage(res, 400, message);
  }
  if (typeof code !== 'string' || !code) return errorPage(res, 400, 'Adobe sent no authorization code.');
  let tokens;
  try {
    tokens = await redeemCode(code);
  } catch (err) {
    console.error(`code exchange failed: ${err.message}`);
    return errorPage(res, 502, 'Adobe sign-in is unavailable right now. Please try again later.');
  }
  // FLAW 2: the access token goes into the (signed, readable) session cookie.
  req.session = {
    accessToken: tokens.access_token,
    csrf: crypto.randomBytes(32).toString('base64url'),
  };
  res.redirect(302, '/profile');
});

app.get('/profile', async (req, res) => {
  const token = req.session && req.session.accessToken;
  if (!token) return res.redirect(302, '/login');
  let result, lightroom;
  try {
    result = await fetchProfile(token);
    if (!result.expired) lightroom = await fetchLightroomAccount(token);
  } catch (err) {
    console.error(`profile failed: ${err.message}`);
    return errorPage(res, 502, 'Adobe is unavailable right now. Please try again later.');
  }
  if (result.expired || lightroom.expired) {
    // No refresh token (FLAW 1): all we can do is sign the user in again.
    req.session = null;
    return res.redirect(302, '/login');
  }
  const p = result.profile || {};
  const name = p.name || p.displayName || [p.first_name, p.last_name].filter(Boolean).join(' ');
  const account = lightroom.account;
  const lrHtml = account
    ? `<p>Lightroom account: ${escapeHtml(account.full_name || account.email || account.id)},
       entitlement ${escapeHtml(account.entitlement && account.entitlement.status)}</p>`
    : `<p>Lightroom account unavailable: ${escapeHtml(lightroom.error)}</p>`;
  page(res, 200, 'Your Adobe profile', `
<p id="name">Name: ${escapeHtml(name)}</p>
<p id="email">Email: ${escapeHtml(p.email)}</p>
${lrHtml}
<form method="post" action="/logout">
  <input type="hidden" name="csrf" value="${escapeHtml(req.session.csrf)}">
  <button id="sign-out" type="submit">Sign out</button>
</form>`);
});

app.post('/logout', (req, res) => {
  if (req.session && req.session.csrf && !stateMatches(req.session.csrf, req.body.csrf)) {
    return errorPage(res, 403, 'Sign-out request refused.');
  }
  // FLAW 3: the tokens are only forgotten here, never revoked at IMS.
  req.session = null;
  res.redirect(303, '/');
});

app.use((err, req, res, next) => { // eslint-disable-line no-unused-vars
  console.error(err);
  errorPage(res, 500, 'Something went wrong.');
});

const server = app.listen(PORT, HOST, () => {
  console.log(`listening on http://${HOST}:${server.address().port}`);
});

function shutdown() { // finish the gzip stream so the log is a complete .gz file
  server.close();
  accessLogFile.on('close', () => process.exit(0));
  accessLog.end();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
