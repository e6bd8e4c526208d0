import type { ExampleServices } from './services.js';

/** Demo tenants for the quick start; created through onboarding, like real sign-ups. */
export const demoTenants = [
  { slug: 'acme', name: 'Acme Inc.', plan: 'pro' as const, adminUserId: 'usr_alice' },
  { slug: 'globex', name: 'Globex', plan: 'free' as const, adminUserId: 'usr_bob' },
  { slug: 'suspended-co', name: 'Suspended Co.', plan: 'free' as const, adminUserId: 'usr_carol' },
];

export async function seedDemoData(services: ExampleServices): Promise<void> {
  for (const demo of demoTenants) {
    if ((await services.registry.getTenantBySlug(demo.slug)) !== null) continue;
    const { tenant } = await services.lifecycle.startOnboarding(demo);
    if (demo.slug === 'suspended-co') await services.registry.suspendTenant(tenant.id, 'demo: payment overdue');
  }
  // Alice also belongs to Globex, to show per-request tenant switching without a new login.
  const globex = await services.registry.getTenantBySlug('globex');
  if (globex !== null && (await services.memberships.getMembership(globex.id, 'usr_alice')) === null) {
    await services.memberships.addMember(globex.id, 'usr_alice', { status: 'active', invitedBy: 'usr_bob' });
  }
}
