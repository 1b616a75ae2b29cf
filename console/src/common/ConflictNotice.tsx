// A stale save: the settings changed since editing began. Shows what is saved now next to
// what was typed, and lets the person keep either.
export interface ConflictField {
  label: string;
  mine: string;
  saved: string;
}

export function ConflictNotice({ message, fields, onUseSaved, onKeepMine }: {
  message: string;
  fields: ConflictField[];
  onUseSaved: () => void;
  onKeepMine: () => void;
}) {
  return (
    <div className="conflict" role="alert">
      <p><strong>VERSION_CONFLICT:</strong> {message}</p>
      <table>
        <caption>Your edit and the value saved now</caption>
        <thead><tr><th scope="col">Field</th><th scope="col">Yours</th><th scope="col">Saved now</th></tr></thead>
        <tbody>
          {fields.map((f) => (
            <tr key={f.label}><th scope="row">{f.label}</th><td>{f.mine || "(empty)"}</td><td>{f.saved || "(empty)"}</td></tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={onUseSaved}>Use the saved values</button>{" "}
      <button type="button" onClick={onKeepMine}>Save mine over them</button>
    </div>
  );
}
