// oidc-provider (the certified OpenID provider) as a benchmark peer: one confidential client,
// RS256 JWT access tokens (a resource indicator is how oidc-provider is told to sign them), and
// an in-memory adapter without the default adapter's 1,000-entry cap (a pool of refresh tokens
// must survive until it is used). Prints `listening <url>` once it accepts connections.
//
// oidc-provider has no admin API; `POST /bench/mint?kind=refresh_token|authorization_code&n=N`
// mints N grants through its own models (Grant, RefreshToken, AuthorizationCode), in-process:
// its fastest equivalent of mock-ims's `POST /__admin/tokens`. Codes and refresh tokens are
// opaque (oidc-provider stores them); access and ID tokens are RS256 JWTs.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const CLIENT_ID = process.env.BENCH_CLIENT_ID ?? 'bench-client';
const CLIENT_SECRET = process.env.BENCH_CLIENT_SECRET ?? 'bench-secret';
const REDIRECT_URI = process.env.BENCH_REDIRECT_URI ?? 'http://localhost:8000/callback';
const RESOURCE = 'urn:bench:api';
const ACCOUNT = 'bench-user';

class MapAdapter {
  static stores = new Map();

  constructor(model) {
    if (!MapAdapter.stores.has(model)) MapAdapter.stores.set(model, new Map());
    this.store = MapAdapter.stores.get(model);
    this.model = model;
  }

  async upsert(id, payload) { this.store.set(id, payload); }
  async find(id) { return this.store.get(id); }
  async findByUserCode() { return undefined; }
  async findByUid(uid) {
    for (const payload of this.store.values()) if (payload.uid === uid) return payload;
    return undefined;
  }
  async consume(id) {
    const payload = this.store.get(id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) { this.store.delete(id); }
  async revokeByGrantId(grantId) {
    for (const store of MapAdapter.stores.values()) {
      for (const [id, payload] of store) if (payload.grantId === grantId) store.delete(id);
    }
  }
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

const port = Number(process.env.PORT ?? 0);
const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    adapter: MapAdapter,
    jwks: { keys: [jwk] },
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    scopes: ['openid', 'offline_access', 'api:read'],
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: 'api:read',
          audience: RESOURCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // Single use and rotation, as mock-ims does (IMS revokes a refresh token on use).
    rotateRefreshToken: true,
    // mock-ims's code lifetime (the default, 60 s, can end before a busy run uses its pool).
    ttl: { AuthorizationCode: 600 },
    pkce: { required: () => false },
  });

  async function mint(kind, n) {
    const client = await provider.Client.find(CLIENT_ID);
    const values = [];
    for (let i = 0; i < n; i += 1) {
      const grant = new provider.Grant({ accountId: ACCOUNT, clientId: CLIENT_ID });
      grant.addOIDCScope('openid offline_access');
      grant.addResourceScope(RESOURCE, 'api:read');
      const grantId = await grant.save();
      const common = {
        accountId: ACCOUNT, client, grantId, resource: RESOURCE, authTime: Math.floor(Date.now() / 1000),
      };
      if (kind === 'refresh_token') {
        // No `openid`: a refresh then signs one JWT (the access token), as little work as it can.
        values.push(await new provider.RefreshToken({ ...common, scope: 'offline_access api:read', gty: 'authorization_code' }).save());
      } else {
        values.push(await new provider.AuthorizationCode({ ...common, scope: 'openid offline_access api:read', redirectUri: REDIRECT_URI }).save());
      }
    }
    return values;
  }

  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (req.method === 'POST' && req.url.startsWith('/bench/mint')) {
      const query = new URL(req.url, issuer).searchParams;
      const kind = query.get('kind');
      if (kind !== 'refresh_token' && kind !== 'authorization_code') {
        res.writeHead(400).end('kind: refresh_token or authorization_code');
        return;
      }
      const values = await mint(kind, Number(query.get('n') ?? 1));
      const body = JSON.stringify({ tokens: values });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    callback(req, res);
  });
  process.stdout.write(`listening ${issuer}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
