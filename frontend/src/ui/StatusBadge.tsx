import { hourMinute, statusLabel, statusTone } from './format';

/**
 * A session's status. While the server is unreachable (`unknownSince`) the last status
 * cannot be trusted, so the badge says so instead of showing a stale "Connected".
 */
export function StatusBadge({ status, unknownSince }: { status: string; unknownSince?: string | null }) {
  if (unknownSince) {
    return (
      <span class="badge tone-unknown" data-status="unknown" data-testid="status-unknown"
        title={`Last known: ${statusLabel(status)}`}>
        <span class="dot" aria-hidden="true" />
        Status unknown since {hourMinute(unknownSince)}
      </span>
    );
  }
  return (
    <span class={`badge tone-${statusTone(status)}`} data-status={status}>
      <span class="dot" aria-hidden="true" />
      {statusLabel(status)}
    </span>
  );
}
