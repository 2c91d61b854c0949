import { useEffect, useState } from 'preact/hooks';
import type { Webhook } from '../api/types';
import { eventsToSend } from '../state/webhookEvents';
import { api } from '../services';
import { EventChooser } from './EventChooser';
import { NoticeLine } from './NoticeLine';
import { OneTimeSecret } from './OneTimeSecret';
import { WebhookItem } from './WebhookItem';
import { useAction } from './hooks';
import { WEBHOOK_EVENTS } from '../state/webhookEvents';

export function WebhooksPage() {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [url, setUrl] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(new Set(WEBHOOK_EVENTS));
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const list = useAction();
  const create = useAction(url);

  const reload = () => list.run(async () => setHooks(await api.listWebhooks()));
  useEffect(() => {
    void reload();
  }, []);

  const submit = (e: Event) => {
    e.preventDefault();
    if (chosen.size === 0) {
      create.say({ tone: 'error', text: 'Choose at least one event.' });
      return;
    }
    void create.run(async () => {
      const made = await api.createWebhook(url.trim(), eventsToSend(chosen));
      setSecret({ url: made.url, secret: made.secret });
      setUrl('');
      setHooks(await api.listWebhooks());
    });
  };

  const replace = (w: Webhook) => setHooks((cur) => (cur ?? []).map((x) => (x.id === w.id ? w : x)));
  const remove = (id: string) => setHooks((cur) => (cur ?? []).filter((x) => x.id !== id));

  return (
    <div class="page">
      <h1 tabIndex={-1}>Webhooks</h1>
      <p class="muted">
        Every matching event is POSTed to your URL, signed with{' '}
        <code>X-Wahub-Signature: sha256=HMAC(secret, "timestamp.body")</code>.{' '}
        <a href="/api/docs" target="_blank" rel="noopener">API documentation</a>
      </p>
      <form class="card" onSubmit={submit} aria-label="New webhook">
        <h2>New webhook</h2>
        <label>
          URL
          <input name="webhook-url" type="url" required placeholder="https://example.com/wahub" value={url}
            onInput={(e) => setUrl(e.currentTarget.value)} />
        </label>
        <EventChooser chosen={chosen} onChange={setChosen} legend="Events to send" />
        <button type="submit" class="btn primary" disabled={create.busy}>Create webhook</button>
        <NoticeLine notice={create.notice} onDismiss={create.dismiss} />
      </form>
      {secret && (
        <OneTimeSecret title={`Signing secret for ${secret.url}`} value={secret.secret} onDone={() => setSecret(null)} />
      )}
      <NoticeLine notice={list.notice} onDismiss={list.dismiss} />
      <section aria-labelledby="hooks-h">
        <h2 id="hooks-h">Your webhooks</h2>
        {!hooks ? (
          <p class="muted">Loading…</p>
        ) : hooks.length === 0 ? (
          <p class="empty">No webhooks yet.</p>
        ) : (
          <ul class="hooks">
            {hooks.map((w) => (
              <li key={w.id}>
                <WebhookItem hook={w} onChanged={replace} onDeleted={remove} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
