import type { PairCode, QrInfo } from '../api/types';

/**
 * When a pairing code really stops working: its own expiry, or the end of the linking run
 * when that comes first. The run ends when the last QR attempt expires, so on the last
 * attempt that time is known exactly.
 */
export function pairCodeDeadline(code: PairCode, qr: QrInfo | undefined): number {
  const own = Date.parse(code.expires_at);
  let deadline = Number.isFinite(own) ? own : 0;
  if (qr && qr.attempt >= qr.max_attempts) {
    const runEnd = Date.parse(qr.expires_at);
    if (Number.isFinite(runEnd)) deadline = Math.min(deadline, runEnd);
  }
  return deadline;
}

/** A code worth showing: known deadline still ahead. */
export function pairCodeAlive(code: PairCode | undefined, qr: QrInfo | undefined, now: number): code is PairCode {
  return !!code && pairCodeDeadline(code, qr) > now;
}
