import { WEBHOOK_EVENTS } from '../state/webhookEvents';

export function EventChooser({ chosen, onChange, legend }: { chosen: Set<string>; onChange: (s: Set<string>) => void; legend: string }) {
  const all = WEBHOOK_EVENTS.every((e) => chosen.has(e));
  const flip = (e: string) => {
    const next = new Set(chosen);
    if (next.has(e)) next.delete(e);
    else next.add(e);
    onChange(next);
  };
  return (
    <fieldset class="events">
      <legend>{legend}</legend>
      <label class="check">
        <input type="checkbox" checked={all} onChange={() => onChange(all ? new Set() : new Set(WEBHOOK_EVENTS))} />
        All events
      </label>
      {WEBHOOK_EVENTS.map((e) => (
        <label key={e} class="check">
          <input type="checkbox" checked={chosen.has(e)} onChange={() => flip(e)} />
          <code>{e}</code>
        </label>
      ))}
    </fieldset>
  );
}
