import type { AuthEventMap } from '@tenantkit/auth';
import type { TypedEventBus } from '@tenantkit/core';

/**
 * What kind of mail auth asked for: a password reset, an email verification or an invitation.
 *
 * @example
 * ```ts
 * const kind: OutboxMailKind = 'password-reset';
 * ```
 */
export type OutboxMailKind = 'password-reset' | 'email-verification' | 'invitation';

/**
 * One mail the example would send. `link` is a secret (it carries a one-time token): the
 * outbox keeps it in memory for the developer and the end-to-end tests, and logs it only
 * outside production.
 *
 * @example
 * ```ts
 * const mail: OutboxMail = { kind: 'password-reset', to: 'alice@acme.example', link: 'https://app.example/reset-password?token=...', userId: 'usr_alice', tenantId: null, expiresAt: 0, queuedAt: 0 };
 * ```
 */
export interface OutboxMail {
  readonly kind: OutboxMailKind;
  readonly to: string;
  readonly link: string;
  /** The account it is for; `null` for an invitation (the invitee may have none yet). */
  readonly userId: string | null;
  readonly tenantId: string | null;
  readonly expiresAt: number;
  readonly queuedAt: number;
}

/** What {@link createMailOutbox} needs. */
export interface MailOutboxOptions {
  /** The auth events to collect the `*-requested` mails from. */
  readonly events: TypedEventBus<AuthEventMap>;
  /** The most mails kept, oldest dropped first; default 100. */
  readonly capacity?: number;
  /** Where one line per queued mail goes; `undefined` for no log. */
  readonly log?: (line: string) => void;
  /** Whether the log line may carry the link (never in production: it is a credential). */
  readonly logLinks: boolean;
  readonly now?: () => number;
}

/**
 * The example's stand-in for a mailer (tenantkit's mailer package is not written yet): it
 * collects the mails auth asks for — `password-reset-requested`, `email-verification-requested`,
 * `invitation-created` — into a bounded in-memory list, so a developer can follow a reset on
 * the console and the end-to-end tests can open the links. Nothing is sent. The log names the
 * recipient; the link only when `logLinks` (outside production).
 *
 * @example
 * ```ts
 * const outbox = createMailOutbox({ events: auth.events, log: console.info, logLinks: process.env.NODE_ENV !== 'production' });
 * outbox.latest({ to: 'alice@acme.example', kind: 'password-reset' })?.link;
 * ```
 */
export function createMailOutbox(options: MailOutboxOptions) {
  const capacity = options.capacity ?? 100;
  const now = options.now ?? Date.now;
  const mails: OutboxMail[] = [];

  function queue(mail: Omit<OutboxMail, 'queuedAt'>): void {
    mails.push({ ...mail, queuedAt: now() });
    if (mails.length > capacity) mails.splice(0, mails.length - capacity);
    options.log?.(`mail (not sent, the example has no mailer): ${mail.kind} to ${mail.to}${options.logLinks ? ` — ${mail.link}` : ''}`);
  }

  const stops = [
    options.events.on('password-reset-requested', (event) =>
      queue({ kind: 'password-reset', to: event.email, link: event.link, userId: event.userId, tenantId: null, expiresAt: event.expiresAt }),
    ),
    options.events.on('email-verification-requested', (event) =>
      queue({ kind: 'email-verification', to: event.email, link: event.link, userId: event.userId, tenantId: null, expiresAt: event.expiresAt }),
    ),
    options.events.on('invitation-created', (event) =>
      queue({ kind: 'invitation', to: event.email, link: event.link, userId: null, tenantId: event.tenantId, expiresAt: event.expiresAt }),
    ),
  ];

  return {
    /** Every mail kept, oldest first. */
    messages: (): readonly OutboxMail[] => [...mails],
    /** The newest mail to an address (of a kind), or `undefined`. */
    latest(filter: { readonly to: string; readonly kind?: OutboxMailKind }): OutboxMail | undefined {
      const to = filter.to.trim().toLowerCase();
      for (let index = mails.length - 1; index >= 0; index -= 1) {
        const mail = mails[index]!;
        if (mail.to === to && (filter.kind === undefined || mail.kind === filter.kind)) return mail;
      }
      return undefined;
    },
    /** Stops collecting. */
    close(): void {
      for (const stop of stops) stop();
    },
  };
}

export type MailOutbox = ReturnType<typeof createMailOutbox>;
