// Local edits over live settings. A field the person has not touched shows the stored value,
// so settingsChanged updates it at once; a field being typed in keeps the typed value. The
// version read when editing began goes back as expectedVersion, so a save over someone
// else's change gets VERSION_CONFLICT instead of silently overwriting it.
import { useState } from "react";

export interface Draft<T extends Record<string, string>> {
  values: T;
  dirty: Partial<T>;
  isDirty: boolean;
  baseVersion: number;
  set: (field: keyof T, value: string) => void;
  clear: () => void;
  rebase: (version: number) => void;
}

export function useVersionedDraft<T extends Record<string, string>>(stored: T, version: number): Draft<T> {
  const [dirty, setDirty] = useState<Partial<T>>({});
  const [baseVersion, setBaseVersion] = useState<number | null>(null);
  const isDirty = Object.keys(dirty).length > 0;
  return {
    values: { ...stored, ...dirty },
    dirty,
    isDirty,
    baseVersion: isDirty && baseVersion !== null ? baseVersion : version,
    set: (field, value) => {
      if (!isDirty) setBaseVersion(version);
      setDirty((d) => ({ ...d, [field]: value }));
    },
    clear: () => {
      setDirty({});
      setBaseVersion(null);
    },
    rebase: (v) => setBaseVersion(v),
  };
}
