// A secret shown in plaintext this once (a new key's secret, a new or rolled secret, a new
// signature secret): copy it now, it is masked everywhere else.
import { CopyButton } from "./CopyButton";

export function ShownOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  return (
    <div className="shown-once" role="group" aria-label={label}>
      <p><strong>{label}</strong> — shown only this once: copy it now.</p>
      <code>{value}</code>
      <CopyButton text={() => Promise.resolve(value)} />
      <button type="button" onClick={onDone}>Done</button>
    </div>
  );
}
