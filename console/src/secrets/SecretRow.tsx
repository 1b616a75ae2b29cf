// One API secret: masked, Reveal / Copy, last use, Revoke, Roll with a grace period.
import { useState } from "react";
import { graphql, useFragment, useMutation } from "react-relay";
import type { SecretRow_secret$key } from "./__generated__/SecretRow_secret.graphql";
import type { SecretRowRevealMutation } from "./__generated__/SecretRowRevealMutation.graphql";
import type { SecretRowRevokeMutation } from "./__generated__/SecretRowRevokeMutation.graphql";
import type { SecretRowRollMutation } from "./__generated__/SecretRowRollMutation.graphql";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";
import { CopyButton } from "../common/CopyButton";
import { formatTime } from "../common/time";

const fragment = graphql`
  fragment SecretRow_secret on ApiSecret {
    id
    masked
    createdAt
    lastUsedAt
    expiresAt
  }
`;

const revealMutation = graphql`
  mutation SecretRowRevealMutation($input: ApiSecretRevealInput!) {
    apiSecretReveal(input: $input) {
      secretPlaintext
      userErrors { field code message }
    }
  }
`;

const revokeMutation = graphql`
  mutation SecretRowRevokeMutation($input: ApiSecretRevokeInput!) {
    apiSecretRevoke(input: $input) {
      revokedSecretId @deleteRecord
      apiKey { id ...ApiKeySecret_apiKey }
      userErrors { field code message }
    }
  }
`;

const rollMutation = graphql`
  mutation SecretRowRollMutation($input: ApiSecretRollInput!) {
    apiSecretRoll(input: $input) {
      secretPlaintext
      apiKey { id ...ApiKeySecret_apiKey }
      userErrors { field code message }
    }
  }
`;

const GRACE_PERIODS: [number, string][] = [
  [0, "None: stops now"],
  [3600, "1 hour"],
  [86400, "24 hours"],
  [604800, "7 days"],
];

interface Props {
  secret: SecretRow_secret$key;
  apiKeyId: string;
  label: string;
  readOnly: boolean;
  onShownOnce: (value: string) => void;
}

export function SecretRow({ secret, label, readOnly, onShownOnce }: Props) {
  const data = useFragment(fragment, secret);
  const [plain, setPlain] = useState<string | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [grace, setGrace] = useState(86400);
  const [reveal, revealing] = useMutation<SecretRowRevealMutation>(revealMutation);
  const [revoke, revoking] = useMutation<SecretRowRevokeMutation>(revokeMutation);
  const [roll, rolling] = useMutation<SecretRowRollMutation>(rollMutation);
  const fail = (error: Error) => setErrors([{ field: null, code: "ERROR", message: error.message }]);

  function fetchPlain(): Promise<string | null> {
    if (plain) return Promise.resolve(plain);
    return new Promise((resolve) => {
      reveal({
        variables: { input: { secretId: data.id } },
        onCompleted: ({ apiSecretReveal }) => {
          setErrors(apiSecretReveal.userErrors);
          setPlain(apiSecretReveal.secretPlaintext ?? null);
          resolve(apiSecretReveal.secretPlaintext ?? null);
        },
        onError: (error) => { fail(error); resolve(null); },
      });
    });
  }

  function doRevoke() {
    setConfirming(false);
    revoke({
      variables: { input: { secretId: data.id } },
      onCompleted: ({ apiSecretRevoke }) => setErrors(apiSecretRevoke.userErrors),
      onError: fail,
    });
  }

  function doRoll() {
    roll({
      variables: { input: { secretId: data.id, expiresInSeconds: grace } },
      onCompleted: ({ apiSecretRoll }) => {
        setErrors(apiSecretRoll.userErrors);
        if (apiSecretRoll.secretPlaintext) onShownOnce(apiSecretRoll.secretPlaintext);
      },
      onError: fail,
    });
  }

  const graceId = `grace-${data.id}`;
  return (
    <div className="secret" role="group" aria-label={label}>
      <h3>{label}</h3>
      <p>
        <code aria-label={`${label} value`}>{plain ?? data.masked}</code>{" "}
        <button type="button" onClick={() => (plain ? setPlain(null) : void fetchPlain())}
          disabled={readOnly || revealing} aria-pressed={plain !== null}>
          {plain ? "Hide" : "Reveal"}
        </button>{" "}
        <CopyButton text={fetchPlain} disabled={readOnly} />
      </p>
      <p className="muted">
        Created {formatTime(data.createdAt)} · Last used:{" "}
        {data.lastUsedAt ? formatTime(data.lastUsedAt) : "never"}
        {data.expiresAt && <> · Expires {formatTime(data.expiresAt)}</>}
      </p>
      <div className="row">
        <label htmlFor={graceId}>Grace period</label>
        <select id={graceId} value={grace} onChange={(e) => setGrace(Number(e.target.value))}
          disabled={readOnly}>
          {GRACE_PERIODS.map(([seconds, text]) => <option key={seconds} value={seconds}>{text}</option>)}
        </select>
        <button type="button" onClick={doRoll} disabled={readOnly || rolling}>Roll</button>
        {confirming ? (
          <>
            <span>Revoke {label} now? Requests using it stop working.</span>
            <button type="button" onClick={doRevoke} disabled={revoking}>Confirm revoke</button>
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)} disabled={readOnly}>Revoke</button>
        )}
      </div>
      <FieldErrors errors={errors} field={null} />
      <FieldErrors errors={errors} field="secretId" />
      <FieldErrors errors={errors} field="expiresInSeconds" />
    </div>
  );
}
