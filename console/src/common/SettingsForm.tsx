// A form over versioned messaging settings (SMS API webhooks, Messages API webhooks): each
// field labelled with the seed's words, its userErrors beside it, a stale save shown as a
// conflict with the fresh values.
import { useState, type FormEvent, type ReactNode } from "react";
import { useRelayEnvironment } from "react-relay";
import { FieldErrors, hasError, type UserErrorData } from "./UserErrors";
import { useVersionedDraft } from "./useVersionedDraft";
import { ConflictNotice } from "./ConflictNotice";
import { refreshSettings } from "./freshSettings";

export interface FieldSpec {
  name: string;
  label: string;
  hint?: ReactNode;
  placeholder?: string;
  options?: [string, string][];
}

export type SaveResult = { errors: readonly UserErrorData[] };

interface Props {
  id: string;
  apiKeyId: string;
  fields: FieldSpec[];
  stored: Record<string, string>;
  version: number;
  readOnly: boolean;
  saveLabel: string;
  save: (changes: Record<string, string>, expectedVersion: number) => Promise<SaveResult>;
}

export function SettingsForm({ id, apiKeyId, fields, stored, version, readOnly, saveLabel, save }: Props) {
  const environment = useRelayEnvironment();
  const draft = useVersionedDraft(stored, version);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [conflict, setConflict] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  async function submit(expectedVersion: number) {
    setSaving(true);
    setSaved(false);
    try {
      const result = await save(draft.dirty as Record<string, string>, expectedVersion);
      const stale = result.errors.find((e) => e.code === "VERSION_CONFLICT");
      setErrors(result.errors.filter((e) => e.code !== "VERSION_CONFLICT"));
      setConflict(stale ? stale.message : null);
      if (stale) await refreshSettings(environment, apiKeyId);
      else if (!result.errors.length) {
        draft.clear();
        setSaved(true);
      }
    } catch (error) {
      setErrors([{ field: null, code: "ERROR", message: (error as Error).message }]);
    } finally {
      setSaving(false);
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void submit(draft.baseVersion);
  }

  return (
    <form onSubmit={onSubmit} noValidate aria-label={saveLabel.replace(/^Save /, "")}>
      {fields.map((field) => {
        const inputId = `${id}-${field.name}`;
        const errorId = `${inputId}-errors`;
        const common = {
          id: inputId,
          value: draft.values[field.name] ?? "",
          disabled: readOnly,
          "aria-describedby": `${errorId} ${inputId}-hint`,
          "aria-invalid": hasError(errors, field.name) || undefined,
          onChange: (e: { target: { value: string } }) => {
            draft.set(field.name, e.target.value);
            setSaved(false);
          },
        };
        return (
          <div className="field" key={field.name}>
            <label htmlFor={inputId}>{field.label}</label>
            {field.options ? (
              <select {...common}>
                {field.options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
              </select>
            ) : (
              <input {...common} type="url" inputMode="url" spellCheck={false}
                placeholder={field.placeholder} />
            )}
            {field.hint && <p className="hint" id={`${inputId}-hint`}>{field.hint}</p>}
            <FieldErrors errors={errors} field={field.name} id={errorId} />
          </div>
        );
      })}
      <FieldErrors errors={errors} field={null} />
      <FieldErrors errors={errors} field="apiKeyId" />
      {conflict && (
        <ConflictNotice
          message={conflict}
          fields={Object.keys(draft.dirty).map((name) => ({
            label: fields.find((f) => f.name === name)?.label ?? name,
            mine: draft.values[name] ?? "",
            saved: stored[name] ?? "",
          }))}
          onUseSaved={() => { draft.clear(); setConflict(null); }}
          onKeepMine={() => { setConflict(null); draft.rebase(version); void submit(version); }}
        />
      )}
      <button type="submit" disabled={readOnly || saving || !draft.isDirty}>{saveLabel}</button>
      {saved && <span role="status"> Saved</span>}
    </form>
  );
}
