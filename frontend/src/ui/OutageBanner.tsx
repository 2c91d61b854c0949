import { hourMinute } from './format';

/** Said once at the top while the server cannot be reached; gone as soon as it is back. */
export function OutageBanner({ since }: { since: string | null }) {
  if (!since) return null;
  return (
    <p class="notice notice-warning" role="status" data-testid="outage">
      The server cannot be reached since {hourMinute(since)}. Statuses are unknown until it is back;
      wahub reconnects by itself.
    </p>
  );
}
