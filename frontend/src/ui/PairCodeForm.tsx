import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { pairCodeAlive, pairCodeDeadline } from '../state/pairCode';
import { api, store } from '../services';
import { NoticeLine } from './NoticeLine';
import { pairCodeText, phoneText, secondsLeft } from './format';
import { useAction, useNow, useStore } from './hooks';

export function PairCodeForm({ session: s }: { session: Session }) {
  const code = useStore((st) => st.pairCodes[s.id]);
  const qr = useStore((st) => st.qr[s.id]);
  const [open, setOpen] = useState(false);
  const [phone, setPhone] = useState(s.phone ? phoneText(s.phone) : '');
  const action = useAction(s.status);
  const now = useNow(1000);
  const input = useRef<HTMLInputElement>(null);
  const alive = pairCodeAlive(code, qr, now);

  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);

  const form = (
    <form class="inline-form" aria-label={`Pairing code for ${s.name}`} onSubmit={(e) => {
      e.preventDefault();
      void action.run(async () => {
        const c = await api.pairCode(s.id, phone.trim());
        store.dispatch({ type: 'paircode/loaded', sessionId: s.id, code: c });
        setOpen(false);
      });
    }}>
      <label>
        Phone number
        <input ref={input} type="tel" inputMode="tel" required value={phone} placeholder="+6281234567890"
          onInput={(e) => setPhone(e.currentTarget.value)} />
      </label>
      <button type="submit" class="btn primary" disabled={action.busy}>{alive ? 'Get a new code' : 'Get code'}</button>
      <button type="button" class="btn ghost" onClick={() => setOpen(false)}>Cancel</button>
    </form>
  );

  return (
    <div>
      {alive && code && (
        <div class="pair-code" data-testid="pair-code">
          <p>On your phone choose <strong>Link with phone number instead</strong> and enter:</p>
          <p class="code">{pairCodeText(code.code)}</p>
          <p class="muted" data-testid="pair-code-expiry">
            Expires in {secondsLeft(new Date(pairCodeDeadline(code, qr)).toISOString(), now)} s
            {qr && qr.attempt < qr.max_attempts ? ', or sooner if linking times out' : ''}
          </p>
          {!open && (
            <button type="button" class="link" onClick={() => setOpen(true)}>Get a new code</button>
          )}
        </div>
      )}
      {!alive && !open && (
        <button type="button" class="link" onClick={() => setOpen(true)}>
          Link with phone number instead
        </button>
      )}
      {open && form}
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
    </div>
  );
}
