// oauth2-mock-server as a benchmark peer: RS256 JWTs from one generated key. It has no client
// registry (any client id and secret are accepted) and does not check codes or refresh tokens:
// the benchmark still sends Basic credentials and distinct values, so the requests match the
// other servers'. Prints `listening <url>` once it accepts connections.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(Number(process.env.PORT ?? 0), '127.0.0.1');
process.stdout.write(`listening ${server.issuer.url}\n`);

process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
