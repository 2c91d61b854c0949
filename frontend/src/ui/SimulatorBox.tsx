import { useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { api } from '../services';
import { useAction } from './hooks';

/** Plays the phone's part for sessions on the built-in simulator engine. */
export function SimulatorBox({ session: s }: { session: Session }) {
  const [panel, setPanel] = useState<'none' | 'scan' | 'incoming'>('none');
  const [phone, setPhone] = useState('');
  const [pushName, setPushName] = useState('');
  const [from, setFrom] = useState('');
  const [text, setText] = useState('');
  const [done, setDone] = useState('');
  const { busy, error, run } = useAction();
  const id = s.id;

  const act = (label: string, fn: () => Promise<unknown>) =>
    void run(async () => {
      setDone('');
      await fn();
      setDone(label);
      setPanel('none');
    });

  return (
    <section class="sim" aria-labelledby={`sim-${id}`} data-testid="simulator">
      <h4 id={`sim-${id}`}>
        <span class="sim-tag">Simulator</span> act as the phone
      </h4>
      <div class="actions" role="group" aria-label="Simulator actions">
        <button type="button" class="btn small" disabled={busy} aria-expanded={panel === 'scan'}
          onClick={() => setPanel(panel === 'scan' ? 'none' : 'scan')}>Scan QR</button>
        <button type="button" class="btn small" disabled={busy}
          onClick={() => act('Scan failed', () => api.simAction(id, 'fail-scan'))}>Fail scan</button>
        <button type="button" class="btn small" disabled={busy}
          onClick={() => act('Network dropped', () => api.simAction(id, 'drop'))}>Drop network</button>
        <button type="button" class="btn small" disabled={busy}
          onClick={() => act('Device unlinked', () => api.simAction(id, 'unlink'))}>Unlink device</button>
        <button type="button" class="btn small" disabled={busy} aria-expanded={panel === 'incoming'}
          onClick={() => setPanel(panel === 'incoming' ? 'none' : 'incoming')}>Incoming message</button>
      </div>
      {panel === 'scan' && (
        <form class="inline-form" aria-label="Simulate scan" onSubmit={(e) => {
          e.preventDefault();
          act('Scanned', () => api.simScan(id, phone.trim(), pushName.trim() || undefined));
        }}>
          <label>
            Phone
            <input name="sim-phone" type="tel" required value={phone} placeholder="6281234567890"
              onInput={(e) => setPhone(e.currentTarget.value)} />
          </label>
          <label>
            Push name
            <input name="sim-push-name" value={pushName} onInput={(e) => setPushName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn primary small" disabled={busy}>Scan</button>
        </form>
      )}
      {panel === 'incoming' && (
        <form class="inline-form" aria-label="Simulate incoming message" onSubmit={(e) => {
          e.preventDefault();
          act('Message delivered', () => api.simIncoming(id, from.trim(), text));
        }}>
          <label>
            From
            <input name="sim-from" type="tel" required value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            Text
            <input name="sim-text" required value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn primary small" disabled={busy}>Deliver</button>
        </form>
      )}
      {done && <p class="ok-text" role="status">{done}.</p>}
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}
