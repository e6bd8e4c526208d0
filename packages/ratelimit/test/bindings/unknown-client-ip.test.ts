// Security review: behind nginx on a Unix socket the connection has no peer address. IP-keyed
// policies used to be skipped silently then; now the 'unix' preset reads the proxy's header, and
// without it every such request shares one `ip=unknown` counter.
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitMiddleware, type RateLimitMiddlewareOptions } from '@tenantkit/ratelimit/express';
import { rateLimitPlugin, type RateLimitPluginOptions } from '@tenantkit/ratelimit/fastify';
import { peerAddressOf, requestSubject } from '../../src/bindings/request-subject.js';
import { createClientIpResolver } from '../../src/ip/client-ip.js';
import type { RateLimiter } from '../../src/limiter/rate-limiter.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { requestOverSocket, unixSocketPath, useUnixSocketServers } from './unix-socket-server.js';

const limiterWith = useClosingLimiters();
const listenOnSocket = useUnixSocketServers();
const apps: FastifyInstance[] = [];

// Registered after the helpers above, so it runs first: the apps close before their limiters.
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const limiterWithIpPolicy = (points: number) =>
  limiterWith({ denyList: { ips: ['198.51.100.0/24'] }, policies: [{ name: 'ip', by: ['ip'], points, duration: 60 }] });

type Serve = (limiter: RateLimiter, trustedProxies?: readonly string[]) => Promise<string>;

const serveExpress: Serve = async (limiter, trustedProxies) => {
  const app = express();
  const options: RateLimitMiddlewareOptions = trustedProxies === undefined ? { limiter } : { limiter, trustedProxies };
  app.use(rateLimitMiddleware(options));
  app.get('/projects/:id', (req, res) => {
    res.json({ ip: req.rateLimit?.outcomes[0]?.key ?? null });
  });
  return listenOnSocket(app);
};

const serveFastify: Serve = async (limiter, trustedProxies) => {
  const app = Fastify();
  apps.push(app);
  const options: RateLimitPluginOptions = trustedProxies === undefined ? { limiter } : { limiter, trustedProxies };
  await app.register(rateLimitPlugin, options);
  app.get('/projects/:id', async (request) => ({ ip: request.rateLimit?.outcomes[0]?.key ?? null }));
  const path = unixSocketPath();
  await app.listen({ path });
  return path;
};

describe.each([
  ['Express', serveExpress],
  ['Fastify', serveFastify],
])('%s on a Unix socket', (_name, serve) => {
  it('without the unix preset, limits every request without an address under one shared key instead of skipping the IP policy', async () => {
    const limiter = limiterWithIpPolicy(2);
    const path = await serve(limiter);
    const statuses = [];
    // The forwarding header is not believed without the preset: it cannot spread the requests out.
    for (const forwardedFor of ['198.51.100.1', '203.0.113.2', '203.0.113.3']) {
      statuses.push((await requestOverSocket(path, '/projects/1', { 'x-forwarded-for': forwardedFor })).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(await limiter.get('ip', { ip: 'unknown' })).toMatchObject({ consumed: 2, key: 'tk:rl:ip:{ip=unknown}' });
  });

  it("with trustedProxies: ['unix'], reads the client from the proxy's header, deny list included", async () => {
    const limiter = limiterWithIpPolicy(1);
    const path = await serve(limiter, ['unix']);
    const first = await requestOverSocket(path, '/projects/1', { 'x-forwarded-for': '203.0.113.7' });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ ip: 'tk:rl:ip:{ip=203.0.113.7}' });
    expect((await requestOverSocket(path, '/projects/1', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
    expect((await requestOverSocket(path, '/projects/1', { 'x-forwarded-for': '198.51.100.5, 203.0.113.7' })).status).toBe(429);
    expect((await requestOverSocket(path, '/projects/1', { 'x-forwarded-for': '198.51.100.9' })).status).toBe(403);
    // No header from the proxy: the client is unknown, and shares the unknown key.
    expect((await requestOverSocket(path, '/projects/1')).status).toBe(200);
    expect(await limiter.get('ip', { ip: 'unknown' })).toMatchObject({ consumed: 1 });
  });
});

describe('peerAddressOf', () => {
  it('gives the TCP peer, undefined for a Unix-socket connection, and an unreadable address for a TCP socket that lost its own', () => {
    expect(peerAddressOf({ remoteAddress: '203.0.113.7' })).toBe('203.0.113.7');
    expect(peerAddressOf({ remoteAddress: undefined, server: { address: () => '/run/app.sock' } })).toBeUndefined();
    expect(peerAddressOf({ remoteAddress: undefined, server: { address: () => ({ address: '0.0.0.0', port: 80, family: 'IPv4' }) } })).toBe('');
    expect(peerAddressOf({ remoteAddress: undefined })).toBe('');
    expect(peerAddressOf(undefined)).toBe('');
  });

  it('so a closed TCP connection never passes for the Unix-socket proxy', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['unix'] });
    const facts = (remoteAddress: string | undefined) => ({ method: 'GET', routePattern: '/x', remoteAddress, forwardedFor: '198.51.100.9' });
    expect(requestSubject(facts(peerAddressOf({ remoteAddress: undefined })), resolve, undefined).ip).toBe('unknown');
    const viaSocket = peerAddressOf({ remoteAddress: undefined, server: { address: () => '/run/app.sock' } });
    expect(requestSubject(facts(viaSocket), resolve, undefined).ip).toBe('198.51.100.9');
  });
});
