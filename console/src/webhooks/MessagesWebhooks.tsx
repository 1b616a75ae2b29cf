// "Messages API": the default Status webhooks and Inbound webhooks.
import { graphql, useFragment, useRelayEnvironment } from "react-relay";
import type { MessagesWebhooks_apiKey$key } from "./__generated__/MessagesWebhooks_apiKey.graphql";
import type { MessagesWebhooksUpdateMutation } from "./__generated__/MessagesWebhooksUpdateMutation.graphql";
import { SettingsForm, type FieldSpec } from "../common/SettingsForm";
import { commitAsync } from "../common/commit";

const fragment = graphql`
  fragment MessagesWebhooks_apiKey on ApiKey {
    id
    messaging {
      api
      version
      messages { statusUrl inboundUrl }
    }
  }
`;

const updateMutation = graphql`
  mutation MessagesWebhooksUpdateMutation($input: MessagesWebhooksUpdateInput!) {
    messagesWebhooksUpdate(input: $input) {
      apiKey { id ...MessagesWebhooks_apiKey }
      userErrors { field code message }
    }
  }
`;

const FIELDS: FieldSpec[] = [
  {
    name: "statusUrl",
    label: "Status webhooks",
    placeholder: "https://example.com/webhooks/status-updates",
    hint: "When the status of a message you have sent changes, Vonage sends an update to this URL.",
  },
  {
    name: "inboundUrl",
    label: "Inbound webhooks",
    placeholder: "https://example.com/webhooks/inbound-message",
    hint: "When someone messages you via any of your Messages API channels, the message is forwarded to this URL.",
  },
];

export function MessagesWebhooks({ apiKey, readOnly }: { apiKey: MessagesWebhooks_apiKey$key; readOnly: boolean }) {
  const data = useFragment(fragment, apiKey);
  const environment = useRelayEnvironment();
  const { messages, version, api } = data.messaging;
  const stored = { statusUrl: messages.statusUrl ?? "", inboundUrl: messages.inboundUrl ?? "" };

  async function save(changes: Record<string, string>, expectedVersion: number) {
    const response = await commitAsync<MessagesWebhooksUpdateMutation>(environment, updateMutation, {
      input: { apiKeyId: data.id, expectedVersion, ...changes },
    });
    return { errors: response.messagesWebhooksUpdate.userErrors };
  }

  return (
    <section className="card" aria-labelledby="messages-heading">
      <h2 id="messages-heading">Messages API</h2>
      <p className="muted">
        Note: These settings are for default webhooks when using the Messages API.
        {api !== "MESSAGES_API" && " This key uses the SMS API now, so they are kept but not sent."}
      </p>
      <SettingsForm id="messages" apiKeyId={data.id} fields={FIELDS} stored={stored} version={version}
        readOnly={readOnly} saveLabel="Save Messages API webhooks" save={save} />
    </section>
  );
}
