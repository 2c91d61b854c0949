import { useEffect } from 'preact/hooks';
import type { Session } from '../api/types';
import { api, store } from '../services';
import { PairCodeForm } from './PairCodeForm';
import { QrImage } from './QrImage';
import { secondsLeft } from './format';
import { useNow, useStore } from './hooks';

export function QrPanel({ session: s }: { session: Session }) {
  const qr = useStore((st) => st.qr[s.id]);
  const now = useNow(1000);

  // A QR on offer that we have not seen (e.g. a REST-only view): fetch it once.
  useEffect(() => {
    if (s.status !== 'scan_qr' || qr) return;
    let cancelled = false;
    api.qr(s.id).then(
      (info) => {
        if (!cancelled) store.dispatch({ type: 'qr/loaded', sessionId: s.id, qr: info });
      },
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, [s.id, s.status, qr]);

  return (
    <section class="qr-panel" aria-label={`Link ${s.name}`}>
      {s.status === 'starting' && <p class="muted">Starting… a QR code will appear in a moment.</p>}
      {s.status === 'pairing' && (
        <p class="pairing" data-testid="pairing" role="status">
          <span class="spinner" aria-hidden="true" /> Pairing… finish on your phone.
        </p>
      )}
      {s.status === 'scan_qr' && qr && (
        <div class="qr-box">
          <QrImage sessionId={s.id} value={qr.value} attempt={qr.attempt} max={qr.max_attempts} />
          <div class="qr-meta">
            <p>Open WhatsApp on your phone → <strong>Linked devices</strong> → <strong>Link a device</strong>, and scan this code.</p>
            <p class="countdown" data-testid="qr-countdown">
              Expires in <strong>{secondsLeft(qr.expires_at, now)} s</strong>
            </p>
            <p data-testid="qr-attempt" role="status">
              Attempt {qr.attempt}/{qr.max_attempts}
            </p>
          </div>
        </div>
      )}
      {s.status === 'scan_qr' && !qr && <p class="muted">Waiting for a QR code…</p>}
      {s.status !== 'pairing' && <PairCodeForm session={s} />}
    </section>
  );
}
