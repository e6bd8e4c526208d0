import type { ExampleServices } from './services.js';

/** Demo tenants for the quick start; created through onboarding, like real sign-ups. */
export const demoTenants = [
  { slug: 'acme', name: 'Acme Inc.', plan: 'pro' as const, adminUserId: 'usr_alice' },
  { slug: 'globex', name: 'Globex', plan: 'free' as const, adminUserId: 'usr_bob' },
  { slug: 'suspended-co', name: 'Suspended Co.', plan: 'free' as const, adminUserId: 'usr_carol' },
];

/**
 * Creates the demo tenants that do not exist yet. Idempotent, and it also brings tenants of an
 * older data directory up to date: their default roles and admin grants are (re)seeded, which
 * changes nothing where they exist.
 */
export async function seedDemoData(services: ExampleServices): Promise<void> {
  const { access } = services;
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
  // Alice also belongs to Globex, to show per-request tenant switching without a new login,
  // and one user holding different roles in different tenants: admin in Acme, viewer in Globex.
  const globex = await services.registry.getTenantBySlug('globex');
  if (globex !== null) {
    if ((await services.memberships.getMembership(globex.id, 'usr_alice')) === null) {
      await services.memberships.addMember(globex.id, 'usr_alice', { status: 'active', invitedBy: 'usr_bob' });
    }
    await access.grantRoleAsSystem(globex.id, 'usr_alice', 'viewer', 'demo seed: Alice may look around Globex');
  }
}
