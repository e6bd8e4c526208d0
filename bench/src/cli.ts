import { type BenchResult, type BenchSuite } from './bench-result.js';
import { isolationSuite } from './suites/isolation.js';
import { ratelimitSuite } from './suites/ratelimit.js';
import { rbacSuite } from './suites/rbac.js';
import { tenantContextSuite } from './suites/tenant-context.js';
import { authSuite } from './suites/auth.js';

const suites: readonly BenchSuite[] = [tenantContextSuite, isolationSuite, rbacSuite, ratelimitSuite, authSuite];

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

function printTable(results: BenchResult[]): void {
  const rows = results.map((result) => [
    result.suite,
    result.case,
    `${formatNumber(result.value)} ${result.unit}`,
    result.peer,
    `${formatNumber(result.peerValue)} ${result.unit}`,
    result.ratio.toFixed(2),
  ]);
  const header = ['suite', 'case', 'ours', 'peer', 'peer value', 'ratio'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((arg) => arg !== '--');
  const json = args.includes('--json');
  const names = args.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => !suites.some((suite) => suite.name === name));
  if (unknown.length > 0) {
    console.error(`Unknown suite(s): ${unknown.join(', ')}. Known: ${suites.map((suite) => suite.name).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const selected = names.length === 0 ? suites : suites.filter((suite) => names.includes(suite.name));
  const results: BenchResult[] = [];
  for (const suite of selected) {
    if (!json) console.error(`running ${suite.name}: ${suite.description}`);
    results.push(...(await suite.run()));
  }
  if (json) console.log(JSON.stringify(results, null, 2));
  else printTable(results);
}

await main();
