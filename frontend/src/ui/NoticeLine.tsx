import type { Notice } from '../api/errors';

/** One notice, coloured by meaning, with a way to make it go away. */
export function NoticeLine({ notice, onDismiss }: { notice: Notice | null; onDismiss: () => void }) {
  if (!notice) return null;
  const urgent = notice.tone === 'error' || notice.tone === 'warning';
  return (
    <div class={`notice notice-${notice.tone}`} role={urgent ? 'alert' : 'status'} data-tone={notice.tone}>
      <span class="notice-text">{notice.text}</span>
      <button type="button" class="notice-close" aria-label="Dismiss message" title="Dismiss" onClick={onDismiss}>
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}
