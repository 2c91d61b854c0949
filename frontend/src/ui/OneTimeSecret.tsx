import { useEffect, useRef, useState } from 'preact/hooks';

/** A secret the server shows only once: copy it now. Takes the focus so it is not missed. */
export function OneTimeSecret({ title, value, onDone }: { title: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    box.current?.focus();
  }, [value]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="card secret" role="status" data-testid="one-time-secret">
      <p><strong>{title}</strong>. Copy it now — it will not be shown again.</p>
      <div class="row">
        <input ref={box} class="mono" readOnly value={value} aria-label={title} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="btn" onClick={() => void copy()}>{copied ? 'Copied' : 'Copy'}</button>
        <button type="button" class="btn ghost" onClick={onDone}>Done</button>
      </div>
    </div>
  );
}
