import { useState } from "react";

// Copies what `text` resolves to (a reveal may be needed first) and says whether it worked.
export function CopyButton({ text, disabled, label = "Copy" }: {
  text: () => Promise<string | null>;
  disabled?: boolean;
  label?: string;
}) {
  const [status, setStatus] = useState<string | null>(null);
  async function copy() {
    try {
      const value = await text();
      if (value == null) return;
      await navigator.clipboard.writeText(value);
      setStatus("Copied");
    } catch {
      setStatus("Copy failed: select the text and copy it yourself");
    }
  }
  return (
    <>
      <button type="button" onClick={copy} disabled={disabled}>{label}</button>
      {status && <span role="status" className="muted">{status}</span>}
    </>
  );
}
