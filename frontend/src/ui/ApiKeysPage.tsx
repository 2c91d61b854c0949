import { useEffect, useState } from 'preact/hooks';
import type { ApiKey, Scope } from '../api/types';
import { api, user } from '../services';
import { SCOPES, grantable, scopeText, toggleScope } from '../state/admin';
import { timeText } from './format';
import { NoticeLine } from './NoticeLine';
import { useAction, useSignal } from './hooks';

export function ApiKeysPage() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState('');
  const { busy, notice, dismiss, run, say } = useAction();
  const me = useSignal(user);
  const offered = grantable(me?.role);
  const [scopes, setScopes] = useState<Scope[] | null>(null);
  // Until the user changes them, a new key gets everything they may grant.
  const chosen = scopes ?? offered;

  const load = () => run(async () => setKeys(await api.listApiKeys()));
  useEffect(() => {
    void load();
  }, []);

  const create = (e: Event) => {
    e.preventDefault();
    if (chosen.length === 0) {
      say({ tone: 'error', text: 'Choose at least one scope.' });
      return;
    }
    void run(async () => {
      const n = days.trim() ? Number(days) : undefined;
      const k = await api.createApiKey(name.trim(), n && n > 0 ? n : undefined, chosen);
      setCreated({ name: k.name || name.trim(), key: k.key });
      setCopied(false);
      setName('');
      setDays('');
      setScopes(null);
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
        </div>
        <fieldset class="events" aria-describedby="scope-help">
          <legend>Scopes</legend>
          {SCOPES.filter((s) => offered.includes(s.scope)).map((s) => (
            <label key={s.scope} class="check" title={s.help}>
              <input type="checkbox" name={`scope-${s.scope}`} checked={chosen.includes(s.scope)}
                onChange={() => setScopes(toggleScope(chosen, s.scope))} />
              {s.label}
            </label>
          ))}
        </fieldset>
        <p id="scope-help" class="field-hint">
          Read: lists and the live stream. Send: messages. Control: start, stop, log out, relink, delete sessions,
          webhooks and keys.{offered.includes('admin') ? ' Admin: the admin routes.' : ''} A call outside
          the key’s scopes is refused.
        </p>
        <div class="row">
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
                  <span class="scope-list" data-testid="key-scopes" title={`Scopes: ${scopeText(k.scopes)}`}>
                    <span class="sr-only">Scopes: </span>
                    {(k.scopes ?? []).map((s) => <span key={s} class="scope-chip">{s}</span>)}
                  </span>
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
