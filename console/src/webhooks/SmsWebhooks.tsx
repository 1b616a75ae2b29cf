// "SMS API": Webhook format, Delivery receipts (DLR) webhooks, Inbound SMS webhooks.
import { graphql, useFragment, useRelayEnvironment } from "react-relay";
import type { SmsWebhooks_apiKey$key } from "./__generated__/SmsWebhooks_apiKey.graphql";
import type { SmsWebhooksUpdateMutation, WebhookFormat } from "./__generated__/SmsWebhooksUpdateMutation.graphql";
import { SettingsForm, type FieldSpec } from "../common/SettingsForm";
import { commitAsync } from "../common/commit";

const fragment = graphql`
  fragment SmsWebhooks_apiKey on ApiKey {
    id
    messaging {
      api
      version
      sms { format deliveryReceiptUrl inboundSmsUrl }
    }
  }
`;

const updateMutation = graphql`
  mutation SmsWebhooksUpdateMutation($input: SmsWebhooksUpdateInput!) {
    smsWebhooksUpdate(input: $input) {
      apiKey { id ...SmsWebhooks_apiKey }
      userErrors { field code message }
    }
  }
`;

const FIELDS: FieldSpec[] = [
  {
    name: "format",
    label: "Webhook format",
    hint: "For SMS API only: how delivery receipt (DLR) webhooks carry their data.",
    options: [
      ["GET", "GET - Webhook data sent as URL query parameters"],
      ["POST", "POST - Webhook data sent as form-encoded body"],
      ["POST_JSON", "POST-JSON - Webhook data sent as JSON body (recommended)"],
    ],
  },
  {
    name: "deliveryReceiptUrl",
    label: "Delivery receipts (DLR) webhooks",
    placeholder: "https://example.com/webhooks/delivery-receipt",
    hint: "When an SMS is delivered (or fails), Vonage sends an update to this URL.",
  },
  {
    name: "inboundSmsUrl",
    label: "Inbound SMS webhooks",
    placeholder: "https://example.com/webhooks/inbound-sms",
    hint: "When someone texts your Vonage number, the message is forwarded to this URL.",
  },
];

export function SmsWebhooks({ apiKey, readOnly }: { apiKey: SmsWebhooks_apiKey$key; readOnly: boolean }) {
  const data = useFragment(fragment, apiKey);
  const environment = useRelayEnvironment();
  const { sms, version, api } = data.messaging;
  const stored = {
    format: sms.format,
    deliveryReceiptUrl: sms.deliveryReceiptUrl ?? "",
    inboundSmsUrl: sms.inboundSmsUrl ?? "",
  };

  async function save(changes: Record<string, string>, expectedVersion: number) {
    const { format, ...urls } = changes;
    const response = await commitAsync<SmsWebhooksUpdateMutation>(environment, updateMutation, {
      input: {
        apiKeyId: data.id,
        expectedVersion,
        ...urls,
        ...(format ? { format: format as WebhookFormat } : {}),
      },
    });
    return { errors: response.smsWebhooksUpdate.userErrors };
  }

  return (
    <section className="card" aria-labelledby="sms-heading">
      <h2 id="sms-heading">SMS API</h2>
      {api !== "SMS_API" && (
        <p className="muted">Not in use: this key uses the Messages API, so these are kept but not sent.</p>
      )}
      <SettingsForm id="sms" apiKeyId={data.id} fields={FIELDS} stored={stored} version={version}
        readOnly={readOnly} saveLabel="Save SMS API webhooks" save={save} />
    </section>
  );
}
