import type { ExampleServices } from './services.js';

/** The password of every demo account (printed in the README's quick start). Demo data only. */
export const demoPassword = 'tenantkit-demo-password';

/** Demo tenants for the quick start; created through onboarding, like real sign-ups. */
export const demoTenants = [
  { slug: 'acme', name: 'Acme Inc.', plan: 'pro' as const, adminUserId: 'usr_alice' },
  { slug: 'globex', name: 'Globex', plan: 'free' as const, adminUserId: 'usr_bob' },
  { slug: 'suspended-co', name: 'Suspended Co.', plan: 'free' as const, adminUserId: 'usr_carol' },
];

/** The demo users' accounts, all with {@link demoPassword}. */
export const demoAccounts = [
  { id: 'usr_alice', email: 'alice@acme.example' },
  { id: 'usr_bob', email: 'bob@globex.example' },
  { id: 'usr_carol', email: 'carol@suspended.example' },
];

/**
 * Creates an account with a fixed id and a password, verified, unless one with that id exists
 * (idempotent). Seed code only: real accounts come from `POST /auth/signup`, whose ids auth
 * generates. It writes to the account store directly because sign-up cannot take an id, and
 * hashes with the app's own hasher, so the account signs in like any other.
 *
 * @returns whether it was created.
 */
export async function seedAccount(services: ExampleServices, account: { id: string; email: string; password: string }): Promise<boolean> {
  const { authStores, auth } = services;
  if ((await authStores.accounts.findById(account.id)) !== null) return false;
  const now = Date.now();
  const outcome = await authStores.accounts.create({
    id: account.id,
    email: account.email.trim().toLowerCase(),
    passwordHash: await auth.passwords.hasher.hash(account.password),
    passwordHistory: [],
    passwordChangedAt: now,
    emailVerifiedAt: now,
    disabledAt: null,
    createdAt: now,
    updatedAt: now,
  });
  // 'id-taken': another process seeded it meanwhile. 'email-taken': someone signed up with it.
  return outcome === 'created';
}

/**
 * Creates the demo tenants and accounts that do not exist yet. Idempotent, and it also brings
 * tenants of an older data directory up to date: their default roles and admin grants are
 * (re)seeded, which changes nothing where they exist.
 */
export async function seedDemoData(services: ExampleServices): Promise<void> {
  const { access } = services;
  for (const account of demoAccounts) await seedAccount(services, { ...account, password: demoPassword });
  for (const demo of demoTenants) {
    const existing = await services.registry.getTenantBySlug(demo.slug);
    if (existing === null) {
      // Onboarding seeds the roles and makes the admin tenant_admin.
      const { tenant } = await services.lifecycle.startOnboarding(demo);
      if (demo.slug === 'suspended-co') await services.registry.suspendTenant(tenant.id, 'demo: payment overdue');
      continue;
    }
    await access.seedRoles(existing.id);
    await access.grantRoleAsSystem(existing.id, demo.adminUserId, 'tenant_admin', 'demo seed: the demo tenant admin');
  }
  // Alice also belongs to Globex, to show switching tenants (POST /auth/switch-tenant, or a
  // sign-in bound to Globex), and one user holding different roles in different tenants: admin
  // in Acme, viewer in Globex.
  const globex = await services.registry.getTenantBySlug('globex');
  if (globex !== null) {
    if ((await services.memberships.getMembership(globex.id, 'usr_alice')) === null) {
      await services.memberships.addMember(globex.id, 'usr_alice', { status: 'active', invitedBy: 'usr_bob' });
    }
    await access.grantRoleAsSystem(globex.id, 'usr_alice', 'viewer', 'demo seed: Alice may look around Globex');
  }
}
