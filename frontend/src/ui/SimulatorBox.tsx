import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { api } from '../services';
import { NoticeLine } from './NoticeLine';
import { cardHeadingId } from './SessionCard';
import { focusSoon, useAction } from './hooks';

/** Plays the phone's part for sessions on the built-in simulator engine. */
export function SimulatorBox({ session: s }: { session: Session }) {
  const [panel, setPanel] = useState<'none' | 'scan' | 'incoming'>('none');
  const [phone, setPhone] = useState('');
  const [pushName, setPushName] = useState('');
  const [from, setFrom] = useState('');
  const [text, setText] = useState('');
  // Not tied to the status: the status change is what the notice announces.
  const action = useAction();
  const firstField = useRef<HTMLInputElement>(null);
  const id = s.id;

  useEffect(() => {
    if (panel !== 'none') firstField.current?.focus();
  }, [panel]);

  // After acting as the phone, focus returns to the card: the form that had it is gone.
  const act = (label: string, fn: () => Promise<unknown>) =>
    void action.run(async () => {
      await fn();
      setPanel('none');
      focusSoon(() => document.getElementById(cardHeadingId(id)) ?? document.querySelector<HTMLElement>('main h1'));
    }, { tone: 'info', text: label });

  return (
    <section class="sim" aria-labelledby={`sim-${id}`} data-testid="simulator">
      <h4 id={`sim-${id}`}>
        <span class="sim-tag">Simulator</span> act as the phone for {s.name}
      </h4>
      <div class="actions" role="group" aria-label={`Simulator actions for ${s.name}`}>
        <button type="button" class="btn small" disabled={action.busy} aria-expanded={panel === 'scan'}
          onClick={() => setPanel(panel === 'scan' ? 'none' : 'scan')}>Scan QR</button>
        <button type="button" class="btn small" disabled={action.busy}
          onClick={() => act('The simulated phone failed the scan.', () => api.simAction(id, 'fail-scan'))}>Fail scan</button>
        <button type="button" class="btn small" disabled={action.busy}
          onClick={() => act('The simulated network dropped.', () => api.simAction(id, 'drop'))}>Drop network</button>
        <button type="button" class="btn small" disabled={action.busy}
          onClick={() => act('The simulated phone unlinked the device.', () => api.simAction(id, 'unlink'))}>Unlink device</button>
        <button type="button" class="btn small" disabled={action.busy} aria-expanded={panel === 'incoming'}
          onClick={() => setPanel(panel === 'incoming' ? 'none' : 'incoming')}>Incoming message</button>
      </div>
      {panel === 'scan' && (
        <form class="inline-form" aria-label={`Simulate scan for ${s.name}`} onSubmit={(e) => {
          e.preventDefault();
          act('The simulated phone scanned the code.', () => api.simScan(id, phone.trim(), pushName.trim() || undefined));
        }}>
          <label>
            Phone
            <input ref={firstField} name="sim-phone" type="tel" required value={phone} placeholder="+6281234567890"
              onInput={(e) => setPhone(e.currentTarget.value)} />
          </label>
          <label>
            Push name
            <input name="sim-push-name" value={pushName} onInput={(e) => setPushName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn primary small" disabled={action.busy}>Scan</button>
        </form>
      )}
      {panel === 'incoming' && (
        <form class="inline-form" aria-label={`Simulate incoming message for ${s.name}`} onSubmit={(e) => {
          e.preventDefault();
          act('The simulated phone received a message.', () => api.simIncoming(id, from.trim(), text));
        }}>
          <label>
            From
            <input ref={firstField} name="sim-from" type="tel" required value={from} placeholder="+6281234567890"
              onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            Text
            <input name="sim-text" required value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn primary small" disabled={action.busy}>Deliver</button>
        </form>
      )}
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
    </section>
  );
}
