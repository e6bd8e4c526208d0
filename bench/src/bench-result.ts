/**
 * One benchmark case measured side by side with its peer in the same run. `ratio` is
 * ours / peer for "higher is better" units (ops/s, req/s) — 1.0 means as fast as the peer.
 */
export interface BenchResult {
  suite: string;
  case: string;
  unit: 'ops/s' | 'req/s';
  value: number;
  peer: string;
  peerValue: number;
  ratio: number;
}

/** A named group of cases, run by `pnpm bench [suite]`. */
export interface BenchSuite {
  name: string;
  description: string;
  run(): Promise<BenchResult[]>;
}

export function benchResult(fields: Omit<BenchResult, 'ratio'>): BenchResult {
  return { ...fields, ratio: fields.peerValue === 0 ? 0 : fields.value / fields.peerValue };
}
