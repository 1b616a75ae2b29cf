// "Your numbers": an inbound webhook per number, overriding its key's inbound URL.
import { useState } from "react";
import { graphql, useFragment, useMutation } from "react-relay";
import type { YourNumbers_account$key } from "./__generated__/YourNumbers_account.graphql";
import type { YourNumbersSetMutation } from "./__generated__/YourNumbersSetMutation.graphql";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";

const fragment = graphql`
  fragment YourNumbers_account on Account {
    numbers(first: 100) {
      edges { node { id msisdn country inboundWebhookUrl apiKey { key nickname } } }
    }
  }
`;

const setMutation = graphql`
  mutation YourNumbersSetMutation($input: NumberWebhookSetInput!) {
    numberWebhookSet(input: $input) {
      number { id inboundWebhookUrl }
      userErrors { field code message }
    }
  }
`;

export function YourNumbers({ account, readOnly }: { account: YourNumbers_account$key; readOnly: boolean }) {
  const { numbers } = useFragment(fragment, account);
  return (
    <section className="card" aria-labelledby="numbers-heading">
      <h2 id="numbers-heading">Your numbers</h2>
      <p>
        Per-number webhooks: optionally set a different inbound webhook for each of your
        numbers; it overrides the key's inbound webhook.
      </p>
      {numbers.edges.length === 0 && <p className="muted">This account has no numbers yet.</p>}
      {numbers.edges.map(({ node }) => (
        <NumberWebhook key={node.id} number={node} readOnly={readOnly} />
      ))}
    </section>
  );
}

interface NumberData {
  id: string;
  msisdn: string;
  country: string;
  inboundWebhookUrl: string | null | undefined;
  apiKey: { key: string; nickname: string | null | undefined } | null | undefined;
}

function NumberWebhook({ number, readOnly }: { number: NumberData; readOnly: boolean }) {
  const [draft, setDraft] = useState<string | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [saved, setSaved] = useState(false);
  const [commit, saving] = useMutation<YourNumbersSetMutation>(setMutation);
  const inputId = `number-${number.id}`;
  const value = draft ?? number.inboundWebhookUrl ?? "";

  function save() {
    commit({
      variables: { input: { numberId: number.id, inboundWebhookUrl: value } },
      onCompleted: ({ numberWebhookSet }) => {
        setErrors(numberWebhookSet.userErrors);
        if (!numberWebhookSet.userErrors.length) { setDraft(null); setSaved(true); }
      },
      onError: (error) => setErrors([{ field: null, code: "ERROR", message: error.message }]),
    });
  }

  return (
    <form className="number" noValidate aria-label={`Number ${number.msisdn}`}
      onSubmit={(e) => { e.preventDefault(); save(); }}>
      <h3>+{number.msisdn} <span className="muted">({number.country}{number.apiKey ? ` · key ${number.apiKey.key}` : ""})</span></h3>
      <label htmlFor={inputId}>Inbound webhook</label>
      <input id={inputId} type="url" value={value} disabled={readOnly} spellCheck={false}
        placeholder="Uses the key's inbound webhook"
        onChange={(e) => { setDraft(e.target.value); setSaved(false); }}
        aria-describedby={`${inputId}-errors`} />
      <button type="submit" disabled={readOnly || saving || draft === null}>Save</button>
      {saved && <span role="status"> Saved</span>}
      <FieldErrors errors={errors} field="inboundWebhookUrl" id={`${inputId}-errors`} />
      <FieldErrors errors={errors} field={null} />
    </form>
  );
}
