// "API Key & Secret": the key and its secrets (masked by default) with Reveal, Copy, Revoke,
// Roll (with a grace period) and, when there is room, Create new secret.
import { useState } from "react";
import { graphql, useFragment, useMutation } from "react-relay";
import type { ApiKeySecret_apiKey$key } from "./__generated__/ApiKeySecret_apiKey.graphql";
import type { ApiKeySecretCreateMutation } from "./__generated__/ApiKeySecretCreateMutation.graphql";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";
import { ShownOnce } from "../common/ShownOnce";
import { SecretRow } from "./SecretRow";

const fragment = graphql`
  fragment ApiKeySecret_apiKey on ApiKey {
    id
    key
    secrets { id ...SecretRow_secret }
  }
`;

const createMutation = graphql`
  mutation ApiKeySecretCreateMutation($input: ApiSecretCreateInput!) {
    apiSecretCreate(input: $input) {
      secretPlaintext
      apiKey { id ...ApiKeySecret_apiKey }
      userErrors { field code message }
    }
  }
`;

export function ApiKeySecret({ apiKey, readOnly }: { apiKey: ApiKeySecret_apiKey$key; readOnly: boolean }) {
  const data = useFragment(fragment, apiKey);
  const [shown, setShown] = useState<{ label: string; value: string } | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [commitCreate, creating] = useMutation<ApiKeySecretCreateMutation>(createMutation);

  function createSecret() {
    commitCreate({
      variables: { input: { apiKeyId: data.id } },
      onCompleted: ({ apiSecretCreate }) => {
        setErrors(apiSecretCreate.userErrors);
        if (apiSecretCreate.secretPlaintext) {
          setShown({ label: "New API secret", value: apiSecretCreate.secretPlaintext });
        }
      },
      onError: (error) => setErrors([{ field: null, code: "ERROR", message: error.message }]),
    });
  }

  return (
    <section className="card" aria-labelledby="secrets-heading">
      <h2 id="secrets-heading">API Key &amp; Secret</h2>
      <p>
        API key: <code aria-label="API key">{data.key}</code> — a public identifier used in API
        requests.
      </p>
      {data.secrets.map((secret, index) => (
        <SecretRow key={secret.id} secret={secret} apiKeyId={data.id}
          label={`API secret ${index + 1}`} readOnly={readOnly}
          onShownOnce={(value) => setShown({ label: "New API secret", value })} />
      ))}
      {data.secrets.length < 2 && (
        <p>
          You don't have a second API secret yet: create one to rotate without downtime.{" "}
          <button type="button" onClick={createSecret} disabled={readOnly || creating}>
            Create new secret
          </button>
        </p>
      )}
      <FieldErrors errors={errors} field={null} />
      <FieldErrors errors={errors} field="secret" />
      {shown && <ShownOnce label={shown.label} value={shown.value} onDone={() => setShown(null)} />}
    </section>
  );
}
