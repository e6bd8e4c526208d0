// Security review (HIGH): `Forwarded: for="` made the unclosed quote swallow the `, for=<real ip>`
// our proxy appends, so the client resolved to the proxy: out of the deny list and out of its
// per-IP counter. The review's repro, through both bindings.
import { request } from 'node:http';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { useLocalHttpServers } from '@tenantkit/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitMiddleware } from '@tenantkit/ratelimit/express';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import { useClosingLimiters } from '../support/closing-limiters.js';

const listen = useLocalHttpServers();
const limiterWith = useClosingLimiters();
const apps: FastifyInstance[] = [];

// Registered after useClosingLimiters, so it runs first: the apps close before their limiters.
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const FORGED = 'for="';
const limiterWithDenyList = () =>
  limiterWith({ denyList: { ips: ['198.51.100.0/24'] }, policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });

/** GET over node:http, so an array header value goes out as separate header lines. */
function get(url: string, headers: Record<string, string | string[]>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(`${url}/projects/1`, { headers, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('Express: Forwarded with a client-written unclosed quote', () => {
  async function serve() {
    const limiter = limiterWithDenyList();
    const app = express();
    // The test client connects from 127.0.0.1: loopback plays the trusted proxy.
    app.use(rateLimitMiddleware({ limiter, trustedProxies: ['loopback'], clientIpHeader: 'forwarded' }));
    app.get('/projects/:id', (_req, res) => {
      res.send('ok');
    });
    return { limiter, url: await listen(app) };
  }

  it('denies the deny-listed client behind it (the review repro)', async () => {
    const { url } = await serve();
    expect(await get(url, { forwarded: `${FORGED}, for=198.51.100.9` })).toBe(403);
    // The proxy's element on a header line of its own (Node joins the lines with ", ").
    expect(await get(url, { forwarded: [FORGED, 'for=198.51.100.9'] })).toBe(403);
    expect(await get(url, { forwarded: 'for=198.51.100.9' })).toBe(403);
  });

  it('counts the client on its own per-IP counter, not the proxy', async () => {
    const { url, limiter } = await serve();
    const statuses = [];
    for (let attempt = 0; attempt < 3; attempt += 1) statuses.push(await get(url, { forwarded: `${FORGED}, for=203.0.113.7` }));
    expect(statuses).toEqual([200, 200, 429]);
    expect(await limiter.get('ip', { ip: '203.0.113.7' })).toMatchObject({ consumed: 2 });
    expect(await limiter.get('ip', { ip: '127.0.0.1' })).toBeUndefined();
  });
});

describe('Fastify: Forwarded with a client-written unclosed quote', () => {
  async function appWith() {
    const limiter = limiterWithDenyList();
    const app = Fastify();
    apps.push(app);
    await app.register(rateLimitPlugin, { limiter, trustedProxies: ['10.0.0.0/8'], clientIpHeader: 'forwarded' });
    app.get('/projects/:id', async () => 'ok');
    // light-my-request hands an array value to the request as it is, as Node does for repeated lines
    // of some headers; its types only declare strings.
    const via = (forwarded: string | string[]) =>
      app.inject({ url: '/projects/1', remoteAddress: '10.0.0.2', headers: { forwarded: forwarded as string } });
    return { limiter, via };
  }

  it('denies the deny-listed client behind it (the review repro: peer 10.0.0.2 trusted)', async () => {
    const { via } = await appWith();
    expect((await via(`${FORGED}, for=198.51.100.9`)).statusCode).toBe(403);
    expect((await via([FORGED, 'for=198.51.100.9'])).statusCode).toBe(403);
    expect((await via('for=198.51.100.9')).statusCode).toBe(403);
  });

  it('counts the client on its own per-IP counter, not the proxy', async () => {
    const { via, limiter } = await appWith();
    const statuses = [];
    for (let attempt = 0; attempt < 3; attempt += 1) statuses.push((await via(`${FORGED}, for=203.0.113.7`)).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    expect(await limiter.get('ip', { ip: '203.0.113.7' })).toMatchObject({ consumed: 2 });
    expect(await limiter.get('ip', { ip: '10.0.0.2' })).toBeUndefined();
  });
});
