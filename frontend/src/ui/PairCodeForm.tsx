import { useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { api, store } from '../services';
import { pairCodeText, secondsLeft } from './format';
import { useAction, useNow, useStore } from './hooks';

export function PairCodeForm({ session: s }: { session: Session }) {
  const code = useStore((st) => st.pairCodes[s.id]);
  const [open, setOpen] = useState(false);
  const [phone, setPhone] = useState(s.phone ? `+${s.phone}` : '');
  const { busy, error, run } = useAction();
  const now = useNow(1000);

  if (code) {
    return (
      <div class="pair-code" data-testid="pair-code">
        <p>On your phone choose <strong>Link with phone number instead</strong> and enter:</p>
        <p class="code">{pairCodeText(code.code)}</p>
        <p class="muted">Expires in {secondsLeft(code.expires_at, now)} s</p>
      </div>
    );
  }
  if (!open) {
    return (
      <button type="button" class="link" onClick={() => setOpen(true)}>
        Link with phone number instead
      </button>
    );
  }
  return (
    <form class="inline-form" onSubmit={(e) => {
      e.preventDefault();
      void run(async () => {
        const c = await api.pairCode(s.id, phone.trim());
        store.dispatch({ type: 'paircode/loaded', sessionId: s.id, code: c });
      });
    }}>
      <label>
        Phone number
        <input type="tel" inputMode="tel" required value={phone} placeholder="+62 812 3456 7890"
          onInput={(e) => setPhone(e.currentTarget.value)} />
      </label>
      <button type="submit" class="btn primary" disabled={busy}>Get code</button>
      <button type="button" class="btn ghost" onClick={() => setOpen(false)}>Cancel</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
