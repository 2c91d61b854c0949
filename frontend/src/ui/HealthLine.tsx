import { useEffect, useState } from 'preact/hooks';
import type { Health } from '../api/types';
import { describeError } from '../api/errors';
import { api } from '../services';
import { useStore } from './hooks';

const LEVEL: Record<string, string> = { healthy: 'Healthy', warning: 'Near the limit', critical: 'At the limit' };

/** Messages today against the daily limit; refetched when this session's messages change. */
export function HealthLine({ sessionId }: { sessionId: string }) {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState('');
  const messages = useStore((s) => s.messages[sessionId]);
  const status = useStore((s) => s.sessions[sessionId]?.status);

  useEffect(() => {
    let cancelled = false;
    api.health(sessionId).then(
      (h) => {
        if (!cancelled) {
          setHealth(h);
          setError('');
        }
      },
      (e) => {
        if (!cancelled) setError(describeError(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [sessionId, messages, status]);

  if (error) return <p class="health muted">Health unavailable: {error}</p>;
  if (!health) return null;
  const used = health.messages_sent_today;
  return (
    <div class={`health level-${health.level}`} data-testid="health">
      <span>
        Today: {used} sent / {health.daily_limit} limit, {health.messages_received_today} received
      </span>
      <meter min={0} max={100} low={70} high={90} optimum={0} value={health.usage_percent}
        aria-label={`Daily limit used: ${health.usage_percent}%`} />
      <span class="level">{LEVEL[health.level] ?? health.level}</span>
    </div>
  );
}
