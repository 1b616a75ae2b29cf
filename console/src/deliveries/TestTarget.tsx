// The channel and number a test webhook is sent for. The channel exists only for the Messages
// API events (SMS API webhooks have none, and the server refuses any but SMS for them); the
// number puts its msisdn in the payload and, for inbound events, sends to that number's own
// inbound webhook when it has one. Numbers come from the account (as "Your numbers" reads
// them), kept to the selected key's: a number of another key would be refused.
import { useEffect } from "react";
import { graphql, useFragment } from "react-relay";
import type { TestTarget_account$key } from "./__generated__/TestTarget_account.graphql";
import type { MessagesChannel, WebhookEvent } from "./__generated__/SendTestWebhookStartMutation.graphql";

const fragment = graphql`
  fragment TestTarget_account on Account {
    numbers(first: 100) {
      edges { node { id msisdn inboundWebhookUrl apiKey { id } } }
    }
  }
`;

export const CHANNELS: [MessagesChannel, string][] = [
  ["SMS", "SMS"],
  ["MMS", "MMS"],
  ["WHATSAPP", "WhatsApp"],
  ["VIBER", "Viber"],
  ["MESSENGER", "Facebook Messenger"],
];

export function hasChannel(event: WebhookEvent): boolean {
  return event === "MESSAGE_STATUS" || event === "INBOUND_MESSAGE";
}

interface Props {
  account: TestTarget_account$key;
  apiKeyId: string;
  event: WebhookEvent;
  channel: MessagesChannel;
  numberId: string;
  readOnly: boolean;
  onChannel: (channel: MessagesChannel) => void;
  onNumber: (numberId: string) => void;
}

export function TestTarget({ account, apiKeyId, event, channel, numberId, readOnly, onChannel, onNumber }: Props) {
  const { numbers } = useFragment(fragment, account);
  const keyNumbers = numbers.edges.map((e) => e.node).filter((n) => n.apiKey?.id === apiKeyId);
  // Another key selected, or the number moved off this key: the pick no longer applies, and
  // sending it would be refused, so fall back to the key's webhook.
  const stale = numberId !== "" && !keyNumbers.some((n) => n.id === numberId);
  useEffect(() => { if (stale) onNumber(""); }, [stale, onNumber]);
  return (
    <>
      {hasChannel(event) && (
        <>
          <label htmlFor="test-channel">Channel</label>
          <select id="test-channel" value={channel} disabled={readOnly} aria-describedby="test-channel-errors"
            onChange={(e) => onChannel(e.target.value as MessagesChannel)}>
            {CHANNELS.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
          </select>
        </>
      )}
      <label htmlFor="test-number">Number</label>
      <select id="test-number" value={numberId} disabled={readOnly} aria-describedby="test-number-errors"
        onChange={(e) => onNumber(e.target.value)}>
        <option value="">Key's webhook</option>
        {keyNumbers.map((n) => (
          <option key={n.id} value={n.id}>
            +{n.msisdn}{n.inboundWebhookUrl ? " (own inbound webhook)" : ""}
          </option>
        ))}
      </select>
    </>
  );
}
