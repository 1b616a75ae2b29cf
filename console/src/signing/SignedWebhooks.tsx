// "Signed Webhooks": the Signature secret (masked, reveal, copy, rotate), the Signature
// method, and whether SMS API webhooks are signed.
import { useState } from "react";
import { graphql, useFragment, useMutation } from "react-relay";
import type { SignedWebhooks_apiKey$key } from "./__generated__/SignedWebhooks_apiKey.graphql";
import type { SignedWebhooksRevealMutation } from "./__generated__/SignedWebhooksRevealMutation.graphql";
import type { SignedWebhooksRotateMutation } from "./__generated__/SignedWebhooksRotateMutation.graphql";
import type { SignedWebhooksUpdateMutation, SignatureMethod } from "./__generated__/SignedWebhooksUpdateMutation.graphql";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";
import { CopyButton } from "../common/CopyButton";
import { ShownOnce } from "../common/ShownOnce";

const fragment = graphql`
  fragment SignedWebhooks_apiKey on ApiKey {
    id
    signature { method maskedSecret signSmsWebhooks }
  }
`;

const revealMutation = graphql`
  mutation SignedWebhooksRevealMutation($input: SignatureSecretRevealInput!) {
    signatureSecretReveal(input: $input) {
      secretPlaintext
      userErrors { field code message }
    }
  }
`;

const rotateMutation = graphql`
  mutation SignedWebhooksRotateMutation($input: SignatureSecretRotateInput!) {
    signatureSecretRotate(input: $input) {
      secretPlaintext
      apiKey { id ...SignedWebhooks_apiKey }
      userErrors { field code message }
    }
  }
`;

const updateMutation = graphql`
  mutation SignedWebhooksUpdateMutation($input: SignatureSettingsUpdateInput!) {
    signatureSettingsUpdate(input: $input) {
      apiKey { id ...SignedWebhooks_apiKey }
      userErrors { field code message }
    }
  }
`;

const METHODS: [SignatureMethod, string][] = [
  ["MD5_HASH", "MD5 HASH signature (legacy, not recommended)"],
  ["MD5_HMAC", "MD5 HMAC signature"],
  ["SHA1_HMAC", "SHA1 HMAC signature"],
  ["SHA256_HMAC", "SHA-256 HMAC signature (recommended)"],
  ["SHA512_HMAC", "SHA-512 HMAC signature (most secure)"],
];

export function SignedWebhooks({ apiKey, readOnly }: { apiKey: SignedWebhooks_apiKey$key; readOnly: boolean }) {
  const data = useFragment(fragment, apiKey);
  const [plain, setPlain] = useState<string | null>(null);
  const [rotated, setRotated] = useState<string | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [reveal, revealing] = useMutation<SignedWebhooksRevealMutation>(revealMutation);
  const [rotate, rotating] = useMutation<SignedWebhooksRotateMutation>(rotateMutation);
  const [update] = useMutation<SignedWebhooksUpdateMutation>(updateMutation);
  const fail = (error: Error) => setErrors([{ field: null, code: "ERROR", message: error.message }]);

  function fetchPlain(): Promise<string | null> {
    if (plain) return Promise.resolve(plain);
    return new Promise((resolve) => {
      reveal({
        variables: { input: { apiKeyId: data.id } },
        onCompleted: ({ signatureSecretReveal: r }) => {
          setErrors(r.userErrors);
          setPlain(r.secretPlaintext ?? null);
          resolve(r.secretPlaintext ?? null);
        },
        onError: (error) => { fail(error); resolve(null); },
      });
    });
  }

  function doRotate() {
    setPlain(null);
    rotate({
      variables: { input: { apiKeyId: data.id } },
      onCompleted: ({ signatureSecretRotate: r }) => {
        setErrors(r.userErrors);
        if (r.secretPlaintext) setRotated(r.secretPlaintext);
      },
      onError: fail,
    });
  }

  function change(input: { method?: SignatureMethod; signSmsWebhooks?: boolean }) {
    update({
      variables: { input: { apiKeyId: data.id, ...input } },
      // Shown at once; the payload (or a userError) settles it.
      optimisticUpdater: (store) => {
        const signature = store.get(data.id)?.getLinkedRecord("signature");
        if (input.method) signature?.setValue(input.method, "method");
        if (input.signSmsWebhooks !== undefined) signature?.setValue(input.signSmsWebhooks, "signSmsWebhooks");
      },
      onCompleted: ({ signatureSettingsUpdate: r }) => setErrors(r.userErrors),
      onError: fail,
    });
  }

  return (
    <section className="card" aria-labelledby="signed-heading">
      <h2 id="signed-heading">Signed Webhooks</h2>
      <p>
        Add an optional layer of security to verify that webhook requests are coming from
        Vonage and haven't been tampered with during transit.
      </p>
      <div role="group" aria-label="Signature secret">
        <h3>Signature secret</h3>
        <code aria-label="Signature secret value">{plain ?? data.signature.maskedSecret}</code>{" "}
        <button type="button" aria-pressed={plain !== null} disabled={readOnly || revealing}
          onClick={() => (plain ? setPlain(null) : void fetchPlain())}>
          {plain ? "Hide" : "Reveal"}
        </button>{" "}
        <CopyButton text={fetchPlain} disabled={readOnly} />{" "}
        <button type="button" onClick={doRotate} disabled={readOnly || rotating}>Rotate</button>
        {rotated && <ShownOnce label="New signature secret" value={rotated} onDone={() => setRotated(null)} />}
      </div>
      <div className="field">
        <label htmlFor="signature-method">Signature method</label>
        <select id="signature-method" value={data.signature.method} disabled={readOnly}
          onChange={(e) => change({ method: e.target.value as SignatureMethod })}
          aria-describedby="signature-method-errors">
          {METHODS.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
        </select>
        <FieldErrors errors={errors} field="method" id="signature-method-errors" />
      </div>
      <div className="field">
        <input id="sign-sms" type="checkbox" checked={data.signature.signSmsWebhooks}
          disabled={readOnly} onChange={(e) => change({ signSmsWebhooks: e.target.checked })} />
        <label htmlFor="sign-sms">Sign SMS API webhooks</label>
        <FieldErrors errors={errors} field="signSmsWebhooks" />
      </div>
      <p className="hint">
        Messages API webhooks carry a JWT in the Authorization header, signed with your
        signature secret; signed SMS API webhooks carry a sig parameter made with the method above.
      </p>
      <FieldErrors errors={errors} field={null} />
    </section>
  );
}
