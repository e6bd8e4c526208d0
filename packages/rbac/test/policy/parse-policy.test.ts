import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../../src/policy/load-policy-file.js';
import { parsePolicyJson, parsePolicyYaml } from '../../src/policy/parse-policy-yaml.js';

const fixture = fileURLToPath(new URL('./fixtures/policy.yaml', import.meta.url));
const code = (c: string, details?: Record<string, unknown>) =>
  expect.objectContaining({ code: c, ...(details === undefined ? {} : { details: expect.objectContaining(details) }) });

describe('parsePolicyYaml', () => {
  it('parses a policy', () => {
    const policy = parsePolicyYaml(`
roles:
  viewer:
    permissions: ['*:read']
  editor:
    inherits: [viewer]
    permissions:
      - docs:*
      - '!docs:delete'
      - permission: docs:publish
        condition: { self: resource.ownerId }
plans:
  free: { permissions: ['docs:*'] }
`);
    expect(policy.roles.get('editor')?.rules).toEqual([
      { effect: 'allow', permission: 'docs:*' },
      { effect: 'deny', permission: 'docs:delete' },
      { effect: 'allow', permission: 'docs:publish', condition: { self: 'resource.ownerId' } },
    ]);
    expect(policy.plans.get('free')).toEqual([{ effect: 'allow', permission: 'docs:*' }]);
  });

  it('names the bad entry with its line and column', () => {
    const text = ['roles:', '  editor:', '    permissions:', '      - docs:read', '      - docs:rea d', ''].join('\n');
    expect(() => parsePolicyYaml(text)).toThrow(
      code('POLICY_INVALID', { path: 'roles.editor.permissions.1', reason: 'PERMISSION_INVALID', line: 5, column: 9 }),
    );
    const unknownKey = ['roles:', '  editor:', '    permissions: []', '    inherit: [viewer]', ''].join('\n');
    expect(() => parsePolicyYaml(unknownKey)).toThrow(code('POLICY_INVALID', { path: 'roles.editor.inherit', line: 4 }));
    expect(() => parsePolicyYaml(unknownKey)).toThrow(/line 4/);
  });

  it('refuses duplicate keys, which YAML parsers elsewhere resolve silently', () => {
    const text = ['roles:', '  editor:', "    permissions: ['docs:read']", '  editor:', "    permissions: ['*']", ''].join('\n');
    expect(() => parsePolicyYaml(text)).toThrow(code('POLICY_INVALID', { reason: 'DUPLICATE_KEY', line: 4 }));
  });

  it('refuses alias bombs but allows modest reuse of anchors', () => {
    const reuse = ['x: &read [docs:read, docs:list]', 'roles:', '  a: { permissions: *read }', '  b: { permissions: *read }', ''].join('\n');
    // `x` is an unknown top-level key: anchors must live inside the policy.
    expect(() => parsePolicyYaml(reuse)).toThrow(code('POLICY_INVALID', { path: 'x' }));
    const policy = parsePolicyYaml(['roles:', '  a: { permissions: &read [docs:read, docs:list] }', '  b: { permissions: *read }', ''].join('\n'));
    expect(policy.roles.get('b')?.rules).toHaveLength(2);

    const bomb = [
      'roles:',
      '  a:',
      '    permissions: &a [x:y, x:y, x:y, x:y, x:y, x:y, x:y, x:y, x:y]',
      '    description: ok',
      '  b: { permissions: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a] }',
      '  c: { permissions: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b] }',
      '  d: { permissions: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c] }',
      '  e: { permissions: [*d, *d, *d, *d, *d, *d, *d, *d, *d] }',
      '',
    ].join('\n');
    expect(() => parsePolicyYaml(bomb)).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml(bomb)).toThrow(/alias/i);
  });

  it('refuses prototype keys, merge keys, unknown tags, several documents and non-mapping roots', () => {
    expect(() => parsePolicyYaml('roles:\n  __proto__:\n    permissions: ["*"]\n')).toThrow(code('POLICY_INVALID', { path: 'roles.__proto__', line: 3 }));
    expect(() => parsePolicyYaml('roles:\n  a:\n    permissions: []\n    constructor: x\n')).toThrow(code('POLICY_INVALID', { path: 'roles.a.constructor' }));
    expect(() =>
      parsePolicyYaml('base: &base { permissions: ["*"] }\nroles:\n  a:\n    <<: *base\n'),
    ).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml('roles:\n  a:\n    permissions: !!binary aGVsbG8=\n')).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml('roles:\n  a:\n    permissions: !shell [rm]\n')).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml('roles: {}\n---\nroles: {}\n')).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml('- roles\n')).toThrow(code('POLICY_INVALID', { path: '(root)' }));
    expect(() => parsePolicyYaml('')).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml('roles: [\n')).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml(42 as never)).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyYaml(`roles: {}\n# ${'x'.repeat(1_048_576)}`)).toThrow(code('POLICY_INVALID'));
  });

  it('reads YAML 1.2: `yes` and `on` stay strings, so they cannot turn into booleans by accident', () => {
    expect(() => parsePolicyYaml('roles:\n  a:\n    permissions: []\n    assignment: { restricted: yes }\n')).toThrow(
      code('POLICY_INVALID', { path: 'roles.a.assignment.restricted' }),
    );
  });
});

describe('parsePolicyJson', () => {
  it('parses strict JSON and refuses duplicate keys that JSON.parse would drop', () => {
    expect(parsePolicyJson('{"roles":{"viewer":{"permissions":["*:read"]}}}').roles.get('viewer')?.rules).toEqual([
      { effect: 'allow', permission: '*:read' },
    ]);
    expect(() => parsePolicyJson('{"roles":{"a":{"permissions":["*"]},"a":{"permissions":[]}}}')).toThrow(
      code('POLICY_INVALID', { reason: 'DUPLICATE_KEY' }),
    );
    expect(() => parsePolicyJson('roles: {}')).toThrow(code('POLICY_INVALID'));
    expect(() => parsePolicyJson('{"roles":{"__proto__":{"permissions":["*"]}}}')).toThrow(code('POLICY_INVALID', { path: 'roles.__proto__' }));
    expect(() => parsePolicyJson('{"roles":{},"plans":{"free":{"permissions":["X:Y"]}}}')).toThrow(
      code('POLICY_INVALID', { path: 'plans.free.permissions.0', line: 1 }),
    );
  });
});

describe('loadPolicyFile', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tenantkit-rbac-policy-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('loads the example YAML policy', async () => {
    const policy = await loadPolicyFile(fixture);
    expect([...policy.roles.keys()]).toEqual(['reader', 'author', 'reviewer', 'editor', 'billing_admin']);
    expect([...policy.globalRoles.keys()]).toEqual(['support_agent']);
    expect([...policy.plans.keys()]).toEqual(['free', 'pro']);
  });

  it('loads .json and .yml files, a byte order mark included', async () => {
    const json = join(directory, 'policy.json');
    await writeFile(json, '\uFEFF{"roles":{"viewer":{"permissions":["*:read"]}}}');
    expect((await loadPolicyFile(json)).roles.has('viewer')).toBe(true);
    const yml = join(directory, 'policy.YML');
    await writeFile(yml, 'roles:\n  viewer:\n    permissions: ["*:read"]\n');
    expect((await loadPolicyFile(yml)).roles.has('viewer')).toBe(true);
  });

  it('puts the file name and line into errors', async () => {
    const file = join(directory, 'bad.yaml');
    await writeFile(file, 'roles:\n  viewer:\n    permissions: ["*:reed:x:y"]\n');
    await expect(loadPolicyFile(file)).rejects.toEqual(code('POLICY_INVALID', { source: file, path: 'roles.viewer.permissions.0', line: 3 }));
    await expect(loadPolicyFile(file)).rejects.toThrow(file);
  });

  it('refuses other extensions, missing files and directories as CONFIGURATION_INVALID', async () => {
    const toml = join(directory, 'policy.toml');
    await writeFile(toml, 'roles = {}');
    await expect(loadPolicyFile(toml)).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(loadPolicyFile(join(directory, 'missing.yaml'))).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(loadPolicyFile(join(directory, '..', `${directory.split('/').pop()}.yaml`))).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(loadPolicyFile('')).rejects.toEqual(code('CONFIGURATION_INVALID'));
  });

  it('refuses files larger than the limit before reading them', async () => {
    const big = join(directory, 'big.yaml');
    await writeFile(big, `roles: {}\n#${'x'.repeat(4 * 1_048_576)}\n`);
    await expect(loadPolicyFile(big)).rejects.toEqual(code('POLICY_INVALID', { source: big }));
  });
});
