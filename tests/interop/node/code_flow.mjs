// Node's openid-client against a real mock IMS: discovery, then the authorization code flow
// with PKCE, the ID token checks, userinfo and a refresh, all done by openid-client itself.
// The user's part (the login page) is done over HTTP, as a browser would: open the page, keep
// its cookie, click a test user.
//
// Usage: node code_flow.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI EMAIL [basic|post]
// Prints one line of JSON: what the flow obtained, or {"error": ...} (and exits 1).
import * as client from 'openid-client';

const SCOPE = 'openid AdobeID email profile offline_access';

async function signIn(authorizationUrl, email) {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) {
    throw new Error(`the login page answered ${page.status}: ${html.slice(0, 300)}`);
  }
  const cookie = page.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const field = (name) => {
    const match = html.match(new RegExp(`name=${name} value="([^"]*)"`));
    if (!match) throw new Error(`no ${name} field on the login page`);
    return match[1];
  };
  const answer = await fetch(new URL('/ims/login', authorizationUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ rid: field('rid'), csrf: field('csrf'), user: email }),
  });
  if (answer.status !== 302) {
    throw new Error(`the login form answered ${answer.status}: ${(await answer.text()).slice(0, 300)}`);
  }
  return new URL(answer.headers.get('location'));
}

async function main() {
  const [issuer, clientId, clientSecret, redirectUri, email, method = 'post'] = process.argv.slice(2);
  const authentication =
    method === 'basic' ? client.ClientSecretBasic(clientSecret) : client.ClientSecretPost(clientSecret);
  // The mock speaks plain HTTP on loopback; openid-client refuses that unless told.
  const config = await client.discovery(new URL(issuer), clientId, undefined, authentication, {
    execute: [client.allowInsecureRequests],
  });

  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const callbackUrl = await signIn(authorizationUrl, email);

  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);

  return {
    issuer: config.serverMetadata().issuer,
    authorization_url: authorizationUrl.href,
    token_type: tokens.token_type,
    expires_in: tokens.expiresIn(),
    has_refresh_token: typeof tokens.refresh_token === 'string',
    claims,
    userinfo,
    refreshed: {
      has_access_token: typeof refreshed.access_token === 'string',
      rotated: refreshed.refresh_token !== tokens.refresh_token,
    },
  };
}

try {
  console.log(JSON.stringify(await main()));
} catch (error) {
  console.log(JSON.stringify({ error: String(error), code: error?.code, cause: String(error?.cause ?? '') }));
  process.exitCode = 1;
}
