import type { AuthEventMap } from '@tenantkit/auth';
import { createTypedEventBus } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { createMailOutbox } from '../src/mail-outbox.js';

const reset = (index: number): AuthEventMap['password-reset-requested'] => ({
  userId: `usr_${index}`,
  email: `user${index}@example.com`,
  link: `https://app.example.com/reset-password?token=secret${index}`,
  expiresAt: 1_000,
});

describe('mail outbox', () => {
  it('keeps the newest mails up to its capacity, and finds the latest per recipient and kind', () => {
    const events = createTypedEventBus<AuthEventMap>({ label: 'test' });
    const outbox = createMailOutbox({ events, capacity: 3, logLinks: false, now: () => 42 });
    for (let index = 0; index < 5; index += 1) events.emit('password-reset-requested', reset(index));
    events.emit('email-verification-requested', { ...reset(4), link: 'https://app.example.com/verify-email?token=v' });
    expect(outbox.messages().map((mail) => mail.to)).toEqual(['user3@example.com', 'user4@example.com', 'user4@example.com']);
    expect(outbox.latest({ to: 'User4@Example.com', kind: 'password-reset' })).toMatchObject({ link: reset(4).link, queuedAt: 42 });
    expect(outbox.latest({ to: 'user4@example.com' })?.kind).toBe('email-verification');
    expect(outbox.latest({ to: 'user0@example.com' })).toBeUndefined();
    outbox.close();
    events.emit('password-reset-requested', reset(9));
    expect(outbox.latest({ to: 'user9@example.com' })).toBeUndefined();
  });

  it('logs the recipient, and the link only when allowed (never in production)', () => {
    for (const logLinks of [false, true]) {
      const events = createTypedEventBus<AuthEventMap>({ label: 'test' });
      const lines: string[] = [];
      createMailOutbox({ events, logLinks, log: (line) => lines.push(line) });
      events.emit('password-reset-requested', reset(1));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('password-reset to user1@example.com');
      expect(lines[0]!.includes('secret1')).toBe(logLinks);
    }
  });
});
