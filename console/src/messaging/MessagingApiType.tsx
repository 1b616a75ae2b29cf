// "Messaging API Type": SMS API or Messages API, one at a time (it changes webhook formats).
import { useState } from "react";
import { graphql, useFragment, useMutation } from "react-relay";
import type { MessagingApiType_apiKey$key } from "./__generated__/MessagingApiType_apiKey.graphql";
import type { MessagingApiTypeSetMutation } from "./__generated__/MessagingApiTypeSetMutation.graphql";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";

const fragment = graphql`
  fragment MessagingApiType_apiKey on ApiKey {
    id
    messaging { api version }
  }
`;

const setMutation = graphql`
  mutation MessagingApiTypeSetMutation($input: MessagingApiSetInput!) {
    messagingApiSet(input: $input) {
      apiKey {
        id
        ...MessagingApiType_apiKey
        ...SmsWebhooks_apiKey
        ...MessagesWebhooks_apiKey
      }
      userErrors { field code message }
    }
  }
`;

type Api = "SMS_API" | "MESSAGES_API";
const CHOICES: [Api, string, string][] = [
  ["SMS_API", "SMS API", "Legacy API with simpler webhook format (GET or POST)"],
  ["MESSAGES_API", "Messages API", "Modern multi-channel API with JSON webhooks"],
];

export function MessagingApiType({ apiKey, readOnly }: { apiKey: MessagingApiType_apiKey$key; readOnly: boolean }) {
  const data = useFragment(fragment, apiKey);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [commit, saving] = useMutation<MessagingApiTypeSetMutation>(setMutation);

  function choose(api: Api) {
    if (api === data.messaging.api) return;
    commit({
      variables: { input: { apiKeyId: data.id, api, expectedVersion: data.messaging.version } },
      onCompleted: ({ messagingApiSet }) => setErrors(messagingApiSet.userErrors),
      onError: (error) => setErrors([{ field: null, code: "ERROR", message: error.message }]),
    });
  }

  return (
    <section className="card" aria-labelledby="messaging-heading">
      <h2 id="messaging-heading">Messaging API Type</h2>
      <p>
        Vonage has two different APIs for sending SMS. You can only use one at a time because
        it changes the format of webhooks you receive.
      </p>
      <div role="group" aria-label="Choose your API" className="row">
        {CHOICES.map(([api, label, hint]) => (
          <button key={api} type="button" aria-pressed={data.messaging.api === api}
            onClick={() => choose(api)} disabled={readOnly || saving} title={hint}>
            {label}
          </button>
        ))}
      </div>
      <p className="muted" role="status">
        In use: {data.messaging.api === "SMS_API" ? "SMS API" : "Messages API"}
      </p>
      <FieldErrors errors={errors} field={null} />
      <FieldErrors errors={errors} field="expectedVersion" />
      <FieldErrors errors={errors} field="api" />
    </section>
  );
}
