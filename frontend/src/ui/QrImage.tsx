import { useEffect, useState } from 'preact/hooks';
import { api } from '../services';

/** The server renders the QR as SVG; it needs the bearer token, so it comes as a blob. */
export function QrImage({ sessionId, value, attempt, max }: { sessionId: string; value: string; attempt: number; max: number }) {
  const [url, setUrl] = useState('');
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    let objectUrl = '';
    setFailed(false);
    api.qrSvg(sessionId).then(
      (blob) => {
        if (cancelled) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => {
        if (!cancelled) setFailed(true);
      },
    );
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
    // A new value means the QR rotated: fetch the new image.
  }, [sessionId, value]);

  return (
    <div class="qr-img" data-testid="qr" data-qr-value={value}>
      {url && !failed ? (
        <img src={url} width={220} height={220} alt={`QR code to link WhatsApp, attempt ${attempt} of ${max}`} />
      ) : (
        <div class="qr-placeholder">{failed ? 'QR image unavailable' : 'Loading QR…'}</div>
      )}
    </div>
  );
}
