// A mutation's userErrors, each shown beside the field its path names.
export interface UserErrorData {
  readonly field: readonly string[] | null | undefined;
  readonly code: string;
  readonly message: string;
}

// `field` is the input field's name (the last part of the error's path); null shows the
// errors that name no field.
export function FieldErrors({ errors, field, id }: {
  errors: readonly UserErrorData[];
  field: string | null;
  id?: string;
}) {
  const mine = errors.filter((e) => (e.field?.length ? e.field[e.field.length - 1] : null) === field);
  if (!mine.length) return null;
  return (
    <ul className="field-errors" id={id} role="alert">
      {mine.map((e) => <li key={e.code + e.message}>{e.message}</li>)}
    </ul>
  );
}

export function hasError(errors: readonly UserErrorData[], field: string): boolean {
  return errors.some((e) => e.field?.[e.field.length - 1] === field);
}
