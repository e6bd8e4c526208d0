/**
 * Measures two synchronous or asynchronous operations side by side: rounds alternate
 * ours/peer so drift (JIT warm-up, thermal, GC) hits both alike, and the median round wins.
 */
export interface OpsComparison {
  ours: number;
  peer: number;
}

export interface MeasureOpsOptions {
  /** Rounds per side. */
  rounds?: number;
  /** Wall time of one round in milliseconds. */
  roundMs?: number;
  /** Operations per inner batch (amortises the clock read). */
  batch?: number;
}

type Operation = () => unknown;

async function opsPerSecond(operation: Operation, roundMs: number, batch: number): Promise<number> {
  const probe = operation();
  const isAsync = probe instanceof Promise;
  if (isAsync) await probe;
  let operations = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(roundMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    if (isAsync) {
      for (let i = 0; i < batch; i += 1) await operation();
    } else {
      for (let i = 0; i < batch; i += 1) operation();
    }
    operations += batch;
    now = process.hrtime.bigint();
  }
  return operations / (Number(now - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export async function compareOps(ours: Operation, peer: Operation, options: MeasureOpsOptions = {}): Promise<OpsComparison> {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 300;
  const batch = options.batch ?? 1000;
  // Warm both paths before measuring.
  await opsPerSecond(ours, roundMs, batch);
  await opsPerSecond(peer, roundMs, batch);
  const oursRounds: number[] = [];
  const peerRounds: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    oursRounds.push(await opsPerSecond(ours, roundMs, batch));
    peerRounds.push(await opsPerSecond(peer, roundMs, batch));
  }
  return { ours: median(oursRounds), peer: median(peerRounds) };
}

export { median };
