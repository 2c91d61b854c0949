import { useRef, useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { api, store } from '../services';
import { NoticeLine } from './NoticeLine';
import { MAX_FILE_BYTES, fileToMedia } from './fileData';
import { useAction } from './hooks';

/** Sends text, or a file with an optional caption, from one session. */
export function SendForm({ session, to: fixedTo }: { session: Session; to?: string }) {
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const action = useAction(session.id);
  const recipient = (fixedTo ?? to).trim();

  const submit = (e: Event) => {
    e.preventDefault();
    if (file && file.size > MAX_FILE_BYTES) {
      action.say({ tone: 'error', text: `That file is too large: at most ${MAX_FILE_BYTES / 1024 / 1024} MB.` });
      return;
    }
    void action.run(async () => {
      const media = file ? await fileToMedia(file, text) : null;
      const res = media ? await api.sendMedia(session.id, recipient, media) : await api.sendText(session.id, recipient, text);
      store.dispatch({
        type: 'message/sent',
        message: {
          id: res.id,
          session_id: res.session_id || session.id,
          status: res.status,
          direction: 'out',
          peer: recipient.replace(/[^\d]/g, '') || recipient,
          text: media ? null : text,
          media: media ? { mimetype: media.mimetype, filename: media.filename, caption: media.caption ?? null } : undefined,
          created_at: new Date().toISOString(),
        },
      });
      setText('');
      setFile(null);
      if (fileInput.current) fileInput.current.value = '';
    }, 'Message accepted; its status updates below.');
  };

  return (
    <form class="card send" onSubmit={submit} aria-label="Send a message">
      <h2>Send from “{session.name}”</h2>
      {fixedTo === undefined && (
        <label>
          To (phone)
          <input name="to" type="tel" inputMode="tel" required value={to} placeholder="+6281234567890"
            onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
      )}
      <label>
        {file ? 'Caption (optional)' : 'Text'}
        <textarea name="text" required={!file} rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <label>
        <span>File <span class="muted">(optional: image, video, audio or document)</span></span>
        <input ref={fileInput} name="file" type="file" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
      </label>
      <button type="submit" class="btn primary" disabled={action.busy}>{action.busy ? 'Sending…' : 'Send'}</button>
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
    </form>
  );
}
