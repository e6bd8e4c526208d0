import { EventEmitter } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as setImmediatePromise, setTimeout as setTimeoutPromise } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TenantContextError } from '../../src/errors.js';
import {
  bindTenantScope,
  currentScope,
  currentTenant,
  currentTenantId,
  isSystemScope,
  onEventInTenantScope,
  onSystemScopeEntered,
  requireTenantId,
  runAsSystem,
  runWithTenant,
  type SystemScopeListener,
} from '../../src/scope/tenant-scope.js';
import type { Tenant } from '../../src/tenant.js';

// Listeners are process-wide; every test removes what it added so tests stay independent.
const unsubscribers: Array<() => void> = [];
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
});
function listenToSystemScope(listener: SystemScopeListener): void {
  unsubscribers.push(onSystemScopeEntered(listener));
}

function tenantRecord(id: string): Tenant<unknown> {
  return Object.freeze({
    id,
    slug: id.replace(/_/g, '-').toLowerCase(),
    name: `Tenant ${id}`,
    status: 'active',
    statusReason: null,
    plan: 'free',
    settings: {},
    features: {},
    limits: {},
    region: null,
    createdAt: 0,
    updatedAt: 0,
    deletedAt: null,
    version: 1,
  });
}

/** Captures a synchronous throw so its code can be asserted. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the function to throw');
}

/** A small seeded PRNG (mulberry32) so the "random" schedules are the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Yields to the event loop in one of several ways, chosen by `random`. */
async function randomYield(random: () => number): Promise<void> {
  const choice = Math.floor(random() * 6);
  switch (choice) {
    case 0:
    case 1:
      await setTimeoutPromise(Math.floor(random() * 4)); // 0-3 ms
      return;
    case 2:
      await setImmediatePromise();
      return;
    case 3:
      await new Promise<void>((resolve) => process.nextTick(resolve));
      return;
    case 4:
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      return;
    default:
      await Promise.resolve();
  }
}

describe('outside any scope', () => {
  it('has no tenant and fails closed', () => {
    expect(currentScope()).toBeUndefined();
    expect(currentTenantId()).toBeUndefined();
    expect(currentTenant()).toBeUndefined();
    expect(isSystemScope()).toBe(false);
    const error = thrownBy(() => requireTenantId());
    expect(error).toBeInstanceOf(TenantContextError);
    expect(error).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED', status: 500 });
  });
});

describe('runWithTenant', () => {
  it('makes the tenant current inside fn and returns what fn returns', () => {
    const result = runWithTenant('tnt_a', () => {
      expect(currentTenantId()).toBe('tnt_a');
      expect(requireTenantId()).toBe('tnt_a');
      expect(currentScope()).toMatchObject({ kind: 'tenant', tenantId: 'tnt_a', tenant: undefined });
      expect(isSystemScope()).toBe(false);
      return 42;
    });
    expect(result).toBe(42);
    expect(currentTenantId()).toBeUndefined();
  });

  it('returns the promise of an async fn and ends the scope with it', async () => {
    const result = await runWithTenant('tnt_a', async () => {
      await setImmediatePromise();
      return requireTenantId();
    });
    expect(result).toBe('tnt_a');
    expect(currentTenantId()).toBeUndefined();
  });

  it('ends the scope when fn throws, and passes the error through', () => {
    const failure = new Error('boom');
    expect(() =>
      runWithTenant('tnt_a', () => {
        throw failure;
      }),
    ).toThrow(failure);
    expect(currentScope()).toBeUndefined();
  });

  it('keeps a tenant record for currentTenant(), and a bare id has none', () => {
    const acme = tenantRecord('tnt_acme');
    runWithTenant(acme, () => {
      expect(requireTenantId()).toBe('tnt_acme');
      expect(currentTenant()).toBe(acme);
      // Re-entering the same tenant by id keeps the record the outer scope was opened with.
      runWithTenant('tnt_acme', () => {
        expect(currentTenant()).toBe(acme);
      });
    });
    runWithTenant('tnt_acme', () => {
      expect(currentTenant()).toBeUndefined();
    });
  });

  it.each([
    ['an empty string', ''],
    ['a path', '../etc/passwd'],
    ['a space', 'tnt a'],
    ['65 characters', 'a'.repeat(65)],
    ['a non-ASCII letter', 'tnt_é'],
    ['a newline', 'tnt_a\n'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['an object without id', {}],
    ['a record with an invalid id', { ...tenantRecord('tnt_x'), id: 'bad id' }],
  ])('rejects %s with TENANT_IDENTIFIER_INVALID and never runs fn', (_label, value) => {
    const fn = vi.fn();
    const error = thrownBy(() => runWithTenant(value as string, fn));
    expect(error).toBeInstanceOf(TenantContextError);
    expect(error).toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    expect(fn).not.toHaveBeenCalled();
  });

  it('accepts ids of 1 and 64 characters', () => {
    expect(runWithTenant('a', requireTenantId)).toBe('a');
    expect(runWithTenant('Z'.repeat(64), requireTenantId)).toBe('Z'.repeat(64));
  });

  it('refuses a different tenant inside a tenant scope (TENANT_SCOPE_CONFLICT) and keeps the outer scope', () => {
    runWithTenant('tnt_a', () => {
      const inner = vi.fn();
      const error = thrownBy(() => runWithTenant('tnt_b', inner));
      expect(error).toBeInstanceOf(TenantContextError);
      expect(error).toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
      expect(inner).not.toHaveBeenCalled();
      expect(requireTenantId()).toBe('tnt_a');
      // A record of another tenant conflicts the same way.
      expect(thrownBy(() => runWithTenant(tenantRecord('tnt_b'), inner))).toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
    });
  });

  it('refuses a different tenant in continuations too (after await and in timers)', async () => {
    await runWithTenant('tnt_a', async () => {
      await setImmediatePromise();
      expect(thrownBy(() => runWithTenant('tnt_b', () => undefined))).toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
      const fromTimer = await new Promise<unknown>((resolve) => {
        setTimeout(() => resolve(thrownBy(() => runWithTenant('tnt_b', () => undefined))), 0);
      });
      expect(fromTimer).toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
    });
  });

  it('allows re-entering the same tenant', () => {
    const result = runWithTenant('tnt_a', () => runWithTenant('tnt_a', () => requireTenantId()));
    expect(result).toBe('tnt_a');
  });

  it('allows any tenant inside the system scope, and restores the system scope afterwards', () => {
    runAsSystem({ reason: 'test: cross-tenant loop' }, () => {
      expect(runWithTenant('tnt_a', requireTenantId)).toBe('tnt_a');
      expect(runWithTenant('tnt_b', requireTenantId)).toBe('tnt_b');
      expect(isSystemScope()).toBe(true);
      expect(currentTenantId()).toBeUndefined();
    });
  });

  it('hands out a frozen scope, so nobody can switch the tenant by assigning to it', () => {
    runWithTenant('tnt_a', () => {
      const scope = currentScope();
      expect(Object.isFrozen(scope)).toBe(true);
      expect(Reflect.set(scope as object, 'tenantId', 'tnt_b')).toBe(false);
      expect(requireTenantId()).toBe('tnt_a');
    });
  });
});

describe('runAsSystem', () => {
  it('runs fn in the system scope, where tenant-scoped code still fails closed', () => {
    const result = runAsSystem({ reason: 'test: rollup', actor: 'cron' }, () => {
      expect(isSystemScope()).toBe(true);
      expect(currentScope()).toMatchObject({ kind: 'system', reason: 'test: rollup', actor: 'cron' });
      expect(currentTenantId()).toBeUndefined();
      expect(currentTenant()).toBeUndefined();
      const error = thrownBy(() => requireTenantId());
      expect(error).toBeInstanceOf(TenantContextError);
      expect(error).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      expect((error as Error).message).toMatch(/system scope/);
      return 'done';
    });
    expect(result).toBe('done');
    expect(isSystemScope()).toBe(false);
  });

  it('records when the scope was entered', () => {
    const before = Date.now();
    const scope = runAsSystem({ reason: 'test: timing' }, () => currentScope());
    expect(scope?.kind).toBe('system');
    if (scope?.kind !== 'system') return;
    expect(scope.enteredAt).toBeGreaterThanOrEqual(before);
    expect(scope.enteredAt).toBeLessThanOrEqual(Date.now());
    expect(scope.actor).toBeUndefined();
  });

  it('lifts the tenant scope when entered from inside one, and restores it afterwards', () => {
    runWithTenant('tnt_a', () => {
      runAsSystem({ reason: 'test: nested' }, () => {
        expect(thrownBy(() => requireTenantId())).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      });
      expect(requireTenantId()).toBe('tnt_a');
    });
  });

  it.each([
    ['no options', undefined],
    ['null options', null],
    ['no reason', {}],
    ['an empty reason', { reason: '' }],
    ['a blank reason', { reason: ' \t\n' }],
    ['a non-string reason', { reason: 42 }],
  ])('refuses %s with VALIDATION_FAILED, without running fn or notifying listeners', (_label, options) => {
    const listener = vi.fn();
    listenToSystemScope(listener);
    const fn = vi.fn();
    const error = thrownBy(() => runAsSystem(options as never, fn));
    expect(error).toBeInstanceOf(TenantContextError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(fn).not.toHaveBeenCalled();
    expect(listener).not.toHaveBeenCalled();
  });

  it('notifies listeners with reason and actor before fn runs, once per entry', () => {
    const events: string[] = [];
    listenToSystemScope((scope) => {
      events.push(`listener:${scope.reason}:${scope.actor ?? '-'}`);
      expect(Object.isFrozen(scope)).toBe(true);
    });
    runAsSystem({ reason: 'test: first', actor: 'job-runner' }, () => events.push('fn'));
    runAsSystem({ reason: 'test: second' }, () => events.push('fn'));
    expect(events).toEqual(['listener:test: first:job-runner', 'fn', 'listener:test: second:-', 'fn']);
  });

  it('stops notifying a listener once unsubscribed', () => {
    const listener = vi.fn();
    const unsubscribe = onSystemScopeEntered(listener);
    runAsSystem({ reason: 'test: one' }, () => undefined);
    unsubscribe();
    runAsSystem({ reason: 'test: two' }, () => undefined);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith(expect.objectContaining({ kind: 'system', reason: 'test: one' }));
  });

  it('survives a throwing listener and still notifies the others', () => {
    const after = vi.fn();
    listenToSystemScope(() => {
      throw new Error('audit sink down');
    });
    listenToSystemScope(after);
    const result = runAsSystem({ reason: 'test: throwing listener' }, () => 'ran');
    expect(result).toBe('ran');
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('survives an async listener that rejects, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      listenToSystemScope(async () => {
        await Promise.resolve();
        throw new Error('audit sink down');
      });
      const result = runAsSystem({ reason: 'test: rejecting listener' }, () => 'ran');
      expect(result).toBe('ran');
      // Unhandled rejections are reported after the microtask queue drains; two macrotasks are ample.
      await setImmediatePromise();
      await setImmediatePromise();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('propagation inside a tenant scope', () => {
  it('follows await, including nested async functions', async () => {
    const seen = await runWithTenant('tnt_a', async () => {
      const steps: Array<string | undefined> = [];
      const nested = async (): Promise<string> => {
        await setImmediatePromise();
        return requireTenantId();
      };
      steps.push(currentTenantId());
      await Promise.resolve();
      steps.push(currentTenantId());
      steps.push(await nested());
      await setTimeoutPromise(1);
      steps.push(currentTenantId());
      return steps;
    });
    expect(seen).toEqual(['tnt_a', 'tnt_a', 'tnt_a', 'tnt_a']);
  });

  it.each<[string, (callback: () => void) => void]>([
    ['setTimeout', (callback) => setTimeout(callback, 1)],
    ['setImmediate', (callback) => setImmediate(callback)],
    ['process.nextTick', (callback) => process.nextTick(callback)],
    ['queueMicrotask', (callback) => queueMicrotask(callback)],
    [
      'setInterval',
      (callback) => {
        const handle = setInterval(() => {
          clearInterval(handle);
          callback();
        }, 1);
      },
    ],
  ])('follows %s callbacks, even after fn has returned', async (_label, schedule) => {
    const seen = await runWithTenant('tnt_a', () => new Promise<string | undefined>((resolve) => schedule(() => resolve(currentTenantId()))));
    expect(seen).toBe('tnt_a');
  });

  it('keeps each tenant in its own callbacks when two scopes schedule at the same time', async () => {
    const seen: string[] = [];
    const scheduleIn = (tenantId: string): Promise<void> =>
      runWithTenant(tenantId, () => new Promise<void>((resolve) => {
        setTimeout(() => {
          seen.push(`${tenantId}=${requireTenantId()}`);
          resolve();
        }, 0);
      }));
    await Promise.all([scheduleIn('tnt_a'), scheduleIn('tnt_b'), scheduleIn('tnt_a'), scheduleIn('tnt_c')]);
    expect(seen.sort()).toEqual(['tnt_a=tnt_a', 'tnt_a=tnt_a', 'tnt_b=tnt_b', 'tnt_c=tnt_c']);
  });

  it('follows promise chains through then, catch and finally', async () => {
    const seen: Array<string | undefined> = [];
    await runWithTenant('tnt_a', () =>
      Promise.resolve()
        .then(() => {
          seen.push(currentTenantId());
          throw new Error('into catch');
        })
        .catch(() => {
          seen.push(currentTenantId());
        })
        .finally(() => {
          seen.push(currentTenantId());
        })
        .then(() => setTimeoutPromise(0))
        .then(() => {
          seen.push(currentTenantId());
        }),
    );
    expect(seen).toEqual(['tnt_a', 'tnt_a', 'tnt_a', 'tnt_a']);
  });

  it('follows every branch of Promise.all', async () => {
    const seen = await runWithTenant('tnt_a', () =>
      Promise.all([
        (async () => {
          await setTimeoutPromise(2);
          return requireTenantId();
        })(),
        (async () => {
          await setImmediatePromise();
          return requireTenantId();
        })(),
        new Promise<string>((resolve) => process.nextTick(() => resolve(requireTenantId()))),
        Promise.resolve().then(requireTenantId),
      ]),
    );
    expect(seen).toEqual(['tnt_a', 'tnt_a', 'tnt_a', 'tnt_a']);
  });

  it('does not leak the scope to code that runs after it', async () => {
    await runWithTenant('tnt_a', async () => {
      await setImmediatePromise();
    });
    await setImmediatePromise();
    expect(currentTenantId()).toBeUndefined();
    expect(thrownBy(() => requireTenantId())).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
  });
});

describe('event emitters', () => {
  it('runs a plain listener in the scope of whoever emits, not of whoever registered it', () => {
    const emitter = new EventEmitter();
    const seen: Array<string | undefined> = [];
    runWithTenant('tnt_a', () => {
      emitter.on('tick', () => seen.push(currentTenantId()));
    });
    runWithTenant('tnt_b', () => emitter.emit('tick'));
    emitter.emit('tick');
    // This is the hazard onEventInTenantScope exists for.
    expect(seen).toEqual(['tnt_b', undefined]);
  });

  it('onEventInTenantScope keeps the registering scope, passes arguments, and unsubscribes', () => {
    const emitter = new EventEmitter();
    const seen: string[] = [];
    const stop = runWithTenant('tnt_a', () =>
      onEventInTenantScope(emitter, 'data', (chunk: string, size: number) => {
        seen.push(`${requireTenantId()}:${chunk}:${size}`);
      }),
    );
    runWithTenant('tnt_b', () => emitter.emit('data', 'x', 1));
    emitter.emit('data', 'y', 2);
    runAsSystem({ reason: 'test: emit from system' }, () => emitter.emit('data', 'z', 3));
    expect(seen).toEqual(['tnt_a:x:1', 'tnt_a:y:2', 'tnt_a:z:3']);

    stop();
    expect(emitter.listenerCount('data')).toBe(0);
    runWithTenant('tnt_b', () => emitter.emit('data', 'after', 4));
    expect(seen).toHaveLength(3);
  });

  it('onEventInTenantScope works with symbol event names', () => {
    const emitter = new EventEmitter();
    const event = Symbol('usage');
    const seen: string[] = [];
    runWithTenant('tnt_a', () => onEventInTenantScope(emitter, event, () => seen.push(requireTenantId())));
    runWithTenant('tnt_b', () => emitter.emit(event));
    expect(seen).toEqual(['tnt_a']);
  });

  it('bindTenantScope keeps the binding scope and passes arguments and the return value through', () => {
    const emitter = new EventEmitter();
    const seen: string[] = [];
    const bound = runWithTenant('tnt_a', () =>
      bindTenantScope((suffix: string) => {
        const entry = `${requireTenantId()}${suffix}`;
        seen.push(entry);
        return entry;
      }),
    );
    runWithTenant('tnt_b', () => {
      expect(bound('!')).toBe('tnt_a!');
      emitter.on('done', bound);
      emitter.emit('done', '?');
      // Calling the bound function inside another tenant's scope is not a conflict: it switches back.
      expect(requireTenantId()).toBe('tnt_b');
    });
    expect(seen).toEqual(['tnt_a!', 'tnt_a?']);
  });

  it('bindTenantScope keeps the system scope, and binding outside any scope stays outside (fails closed)', () => {
    const boundInSystem = runAsSystem({ reason: 'test: bind' }, () => bindTenantScope(() => isSystemScope()));
    expect(runWithTenant('tnt_b', boundInSystem)).toBe(true);

    const boundOutside = bindTenantScope(() => currentTenantId());
    expect(runWithTenant('tnt_b', boundOutside)).toBeUndefined();
  });
});

describe('isolation under concurrency (security: no tenant bleed)', () => {
  const REQUESTS = 1000;
  const TENANTS = 50;
  const STEPS = 6;
  const tenantIds = Array.from({ length: TENANTS }, (_, index) => `tnt_${String(index).padStart(2, '0')}`);

  it(`keeps ${REQUESTS} interleaved concurrent requests over ${TENANTS} tenants apart`, async () => {
    const random = seededRandom(0x7e4a47);
    let checks = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const mismatches: string[] = [];
    const check = (expected: string, where: string): void => {
      checks += 1;
      let actual: string;
      try {
        actual = requireTenantId();
      } catch (error) {
        actual = `threw ${(error as TenantContextError).code}`;
      }
      if (actual !== expected) mismatches.push(`${where}: expected ${expected}, saw ${actual}`);
    };

    const handleRequest = (requestIndex: number): Promise<void> => {
      const tenantId = tenantIds[requestIndex % TENANTS] as string;
      return runWithTenant(tenantId, async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          check(tenantId, `request ${requestIndex} start`);
          for (let step = 0; step < STEPS; step += 1) {
            await randomYield(random);
            check(tenantId, `request ${requestIndex} step ${step}`);
          }
          // Fan out inside the request, as handlers do with parallel queries.
          await Promise.all(
            [0, 1].map(async (branch) => {
              await randomYield(random);
              check(tenantId, `request ${requestIndex} branch ${branch}`);
            }),
          );
          check(tenantId, `request ${requestIndex} end`);
        } finally {
          inFlight -= 1;
        }
      });
    };

    await Promise.all(Array.from({ length: REQUESTS }, (_, index) => handleRequest(index)));

    expect(mismatches).toEqual([]);
    // Guards against a vacuous pass: every check ran, and all requests were in flight together.
    expect(checks).toBe(REQUESTS * (STEPS + 4));
    expect(maxInFlight).toBe(REQUESTS);
    expect(currentTenantId()).toBeUndefined();
  });

  it(`keeps ${REQUESTS} concurrent HTTP requests over ${TENANTS} tenants apart on reused keep-alive sockets`, async () => {
    const MAX_SOCKETS = 32;
    const random = seededRandom(0x5eed);
    const serverMismatches: string[] = [];
    let connections = 0;

    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const header = req.headers['x-tenant-id'];
      const requestId = String(req.headers['x-request-id']);
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      let handled: Promise<void>;
      try {
        // A missing header must not become the tenant "undefined": pass '' and let validation refuse it.
        handled = runWithTenant(typeof header === 'string' ? header : '', async () => {
          for (let step = 0; step < 4; step += 1) {
            await randomYield(random);
            const seen = requireTenantId();
            if (seen !== header) serverMismatches.push(`request ${requestId} step ${step}: ${String(header)} saw ${seen}`);
          }
          // The echoed tenant comes from the scope, not the header, so a bleed would show up here.
          reply(200, { tenantId: requireTenantId(), requestId });
        });
      } catch (error) {
        reply(400, { code: (error as TenantContextError).code });
        return;
      }
      handled.catch((error: unknown) => reply(500, { code: (error as TenantContextError).code }));
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });

    type Outcome = { status: number; body: { tenantId?: string; requestId?: string }; clientScope: string | undefined };
    const send = (requestIndex: number): Promise<{ tenantId: string; requestId: string; outcome: Outcome }> => {
      const tenantId = tenantIds[requestIndex % TENANTS] as string;
      const requestId = String(requestIndex);
      // The client side runs in the tenant's scope too: its response callbacks must see it.
      return runWithTenant(tenantId, () =>
        new Promise((resolve, reject) => {
          const outgoing = request(
            { host: '127.0.0.1', port, path: '/', agent, headers: { 'x-tenant-id': tenantId, 'x-request-id': requestId } },
            (response) => {
              let raw = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => {
                raw += chunk;
              });
              response.on('end', () => {
                try {
                  resolve({
                    tenantId,
                    requestId,
                    outcome: { status: response.statusCode ?? 0, body: JSON.parse(raw) as Outcome['body'], clientScope: currentTenantId() },
                  });
                } catch (error) {
                  reject(error instanceof Error ? error : new Error(String(error)));
                }
              });
              response.on('error', reject);
            },
          );
          outgoing.on('error', reject);
          outgoing.end();
        }),
      );
    };

    try {
      const results = await Promise.all(Array.from({ length: REQUESTS }, (_, index) => send(index)));
      const wrong = results.filter(
        ({ tenantId, requestId, outcome }) =>
          outcome.status !== 200 ||
          outcome.body.tenantId !== tenantId ||
          outcome.body.requestId !== requestId ||
          outcome.clientScope !== tenantId,
      );
      expect(wrong).toEqual([]);
      expect(results).toHaveLength(REQUESTS);
      expect(serverMismatches).toEqual([]);
      // Sockets really were shared between tenants, which is where a leak would come from.
      expect(connections).toBeGreaterThan(0);
      expect(connections).toBeLessThanOrEqual(MAX_SOCKETS);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
