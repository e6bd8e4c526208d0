import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { describeExactAdmission, plainTenantIds } from './exact-admission-suite.js';

await describeWithService('redis', '4 worker processes on one Redis node admit exactly the limit', () => {
  describeExactAdmission({
    label: 'single node',
    target: () => ({ kind: 'redis', url: testServices.redis.url }),
    connect: async () => {
      const client = new Redis(testServices.redis.url);
      await client.ping();
      return client;
    },
    tenantIds: plainTenantIds,
  });
});
