import { useEffect, useState } from 'preact/hooks';
import type { ApiKey } from '../api/types';
import { api } from '../services';
import { timeText } from './format';
import { NoticeLine } from './NoticeLine';
import { useAction } from './hooks';

export function ApiKeysPage() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState('');
  const { busy, notice, dismiss, run } = useAction();

  const load = () => run(async () => setKeys(await api.listApiKeys()));
  useEffect(() => {
    void load();
  }, []);

  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const n = days.trim() ? Number(days) : undefined;
      const k = await api.createApiKey(name.trim(), n && n > 0 ? n : undefined);
      setCreated({ name: k.name || name.trim(), key: k.key });
      setCopied(false);
      setName('');
      setDays('');
      setKeys(await api.listApiKeys());
    });
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  return (
    <div class="page">
      <h1>API keys</h1>
      <p class="muted">Scripts can call the API with <code>X-Api-Key: &lt;key&gt;</code>.</p>
      <form class="card" onSubmit={create} aria-label="New API key">
        <h2>New key</h2>
        <div class="row">
          <label>
            Name
            <input name="key-name" required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            <span>Expires in days <span class="muted">(optional)</span></span>
            <input name="key-days" type="number" min={1} max={3650} value={days} onInput={(e) => setDays(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn primary" disabled={busy}>Create key</button>
        </div>
      </form>
      {created && (
        <div class="card secret" role="status" data-testid="new-key">
          <p><strong>Key “{created.name}” created.</strong> Copy it now — it will not be shown again.</p>
          <div class="row">
            <input class="mono" readOnly value={created.key} aria-label="New API key" onFocus={(e) => e.currentTarget.select()} />
            <button type="button" class="btn" onClick={() => void copy()}>{copied ? 'Copied' : 'Copy'}</button>
            <button type="button" class="btn ghost" onClick={() => setCreated(null)}>Done</button>
          </div>
        </div>
      )}
      <NoticeLine notice={notice} onDismiss={dismiss} />
      <section class="card" aria-labelledby="keys-h">
        <h2 id="keys-h">Your keys</h2>
        {!keys ? (
          <p class="muted">Loading…</p>
        ) : keys.length === 0 ? (
          <p class="muted">No API keys.</p>
        ) : (
          <ul class="keys">
            {keys.map((k) => (
              <li key={k.id}>
                <div>
                  <strong>{k.name}</strong>
                  {typeof k.prefix === 'string' && k.prefix && <code class="muted"> {k.prefix}…</code>}
                  <div class="muted small">
                    created {timeText(k.created_at)}
                    {k.expires_at ? ` · expires ${timeText(k.expires_at)}` : ''}
                    {k.last_used_at ? ` · last used ${timeText(k.last_used_at)}` : ''}
                  </div>
                </div>
                {confirming === k.id ? (
                  <span class="confirm-inline">
                    <button type="button" class="btn danger-solid small" disabled={busy}
                      onClick={() => void run(async () => {
                        await api.deleteApiKey(k.id);
                        setConfirming('');
                        setKeys(await api.listApiKeys());
                      })}>
                      Really delete
                    </button>
                    <button type="button" class="btn ghost small" onClick={() => setConfirming('')}>Cancel</button>
                  </span>
                ) : (
                  <button type="button" class="btn danger small" aria-label={`Delete key ${k.name}`}
                    onClick={() => setConfirming(k.id)}>
                    Delete
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
