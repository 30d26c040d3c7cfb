import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `probe` every `intervalMs` until it returns a value, bounded by `timeoutMs`; the error
 * names what was awaited. For e2e tests that wait on real processes and chains.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}
