/** min(max, initial * 2^(attempt-1)) for the wait after failed attempt `attempt` (1-based); the exponent is capped so it never overflows. */
export function backoff(attempt: number, backoffMs: { initial: number; max: number }): number {
  return Math.min(backoffMs.max, backoffMs.initial * 2 ** Math.min(attempt - 1, 30));
}
