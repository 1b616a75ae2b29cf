// "Send test webhook": testDeliveryStart sends a sample webhook and returns the delivery at
// once; deliverySteps then streams its steps, each linked to the delivery, so the timeline
// and the delivery's status update in the store. Starting is a mutation (with an idempotency
// key per click), never a subscription, so a reconnect or re-render does not send again.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { graphql, useMutation, useRefetchableFragment, useRelayEnvironment } from "react-relay";
import { requestSubscription, type Disposable, type RecordSourceSelectorProxy } from "relay-runtime";
import type { SendTestWebhook_apiKey$key } from "./__generated__/SendTestWebhook_apiKey.graphql";
import type {
  MessagesChannel, SendTestWebhookStartMutation, WebhookEvent,
} from "./__generated__/SendTestWebhookStartMutation.graphql";
import type { TestTarget_account$key } from "./__generated__/TestTarget_account.graphql";
import type { SendTestWebhookFollowSubscription } from "./__generated__/SendTestWebhookFollowSubscription.graphql";
import type { SendTestWebhookRedeliverMutation } from "./__generated__/SendTestWebhookRedeliverMutation.graphql";
import { Timeline } from "./Timeline";
import { TestTarget, hasChannel } from "./TestTarget";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";
import { EarlierDeliveries } from "./EarlierDeliveries";
import { countOneMore } from "../common/connections";

const fragment = graphql`
  fragment SendTestWebhook_apiKey on ApiKey
  @argumentDefinitions(count: { type: "Int", defaultValue: 5 }, cursor: { type: "String" })
  @refetchable(queryName: "SendTestWebhookRefetchQuery") {
    id
    testDeliveries(first: $count, after: $cursor) @connection(key: "SendTestWebhook_testDeliveries") {
      __id
      totalCount
      edges { node { id event url status createdAt errorCode ...Timeline_delivery } }
    }
  }
`;

const startMutation = graphql`
  mutation SendTestWebhookStartMutation($input: TestDeliveryStartInput!, $connections: [ID!]!) {
    testDeliveryStart(input: $input) {
      deliveryEdge @prependEdge(connections: $connections) {
        node { id event url status createdAt errorCode ...Timeline_delivery }
      }
      userErrors { field code message }
    }
  }
`;

const redeliverMutation = graphql`
  mutation SendTestWebhookRedeliverMutation($input: TestDeliveryRedeliverInput!, $connections: [ID!]!) {
    testDeliveryRedeliver(input: $input) {
      deliveryEdge @prependEdge(connections: $connections) {
        node { id event url status createdAt errorCode ...Timeline_delivery }
      }
      userErrors { field code message }
    }
  }
`;

const followSubscription = graphql`
  subscription SendTestWebhookFollowSubscription($deliveryId: ID!) {
    deliverySteps(deliveryId: $deliveryId) {
      id sequence kind at attempt detail address errorCode final status
      request { method url headers { name value } body }
      response { statusCode headers { name value } body durationMs }
      delivery { id status finishedAt errorCode }
    }
  }
`;

// Each streamed step joins its delivery's `steps` in the store (once: stored steps replay
// first when following a delivery again), so the timeline grows without hand-kept state.
function appendStep(store: RecordSourceSelectorProxy) {
  const step = store.getRootField("deliverySteps");
  const delivery = step?.getLinkedRecord("delivery");
  if (!step || !delivery) return;
  const steps = delivery.getLinkedRecords("steps") ?? [];
  if (steps.some((s) => s?.getDataID() === step.getDataID())) return;
  delivery.setLinkedRecords([...steps, step], "steps");
}

const EVENTS: [WebhookEvent, string][] = [
  ["DELIVERY_RECEIPT", "Delivery receipt (DLR)"],
  ["INBOUND_SMS", "Inbound SMS"],
  ["MESSAGE_STATUS", "Message status"],
  ["INBOUND_MESSAGE", "Inbound message"],
];

interface Props {
  apiKey: SendTestWebhook_apiKey$key;
  account: TestTarget_account$key;
  readOnly: boolean;
}

export function SendTestWebhook({ apiKey, account, readOnly }: Props) {
  const [data] = useRefetchableFragment(fragment, apiKey);
  const environment = useRelayEnvironment();
  const [event, setEvent] = useState<WebhookEvent>("DELIVERY_RECEIPT");
  const [channel, setChannel] = useState<MessagesChannel>("SMS");
  const [numberId, setNumberId] = useState("");
  const [url, setUrl] = useState("");
  const [followingId, setFollowingId] = useState<string | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const following = useRef<Disposable | null>(null);
  const [start, starting] = useMutation<SendTestWebhookStartMutation>(startMutation);
  const [redeliver, redelivering] = useMutation<SendTestWebhookRedeliverMutation>(redeliverMutation);
  const connections = [data.testDeliveries.__id];
  const fail = (error: Error) => setErrors([{ field: null, code: "ERROR", message: error.message }]);
  useEffect(() => () => following.current?.dispose(), []);

  function follow(deliveryId: string) {
    following.current?.dispose();
    setFollowingId(deliveryId);
    following.current = requestSubscription<SendTestWebhookFollowSubscription>(environment, {
      subscription: followSubscription,
      variables: { deliveryId },
      updater: appendStep,
      onError: fail,
    });
  }

  function send(e: FormEvent) {
    e.preventDefault();
    setErrors([]);
    start({
      variables: {
        input: {
          apiKeyId: data.id, event, url: url.trim() || null, idempotencyKey: crypto.randomUUID(),
          // SMS API events have no channel: a choice kept from a Messages event is not sent.
          channel: hasChannel(event) ? channel : "SMS",
          numberId: numberId || null,
        },
        connections,
      },
      updater: (store, response) => {
        if (response?.testDeliveryStart.deliveryEdge) countOneMore(store, data.testDeliveries.__id);
      },
      onCompleted: ({ testDeliveryStart: r }) => {
        setErrors(r.userErrors);
        if (r.deliveryEdge) follow(r.deliveryEdge.node.id);
      },
      onError: fail,
    });
  }

  function resend(deliveryId: string) {
    setErrors([]);
    redeliver({
      variables: { input: { deliveryId }, connections },
      updater: (store, response) => {
        if (response?.testDeliveryRedeliver.deliveryEdge) countOneMore(store, data.testDeliveries.__id);
      },
      onCompleted: ({ testDeliveryRedeliver: r }) => {
        setErrors(r.userErrors);
        if (r.deliveryEdge) follow(r.deliveryEdge.node.id);
      },
      onError: fail,
    });
  }

  const edges = data.testDeliveries.edges;
  const shown = edges.find((e) => e.node.id === followingId)?.node;
  return (
    <section className="card" aria-labelledby="test-heading">
      <h2 id="test-heading">Send test webhook</h2>
      <form onSubmit={send} noValidate aria-label="Send test webhook" className="row">
        <label htmlFor="test-event">Webhook</label>
        <select id="test-event" value={event} disabled={readOnly}
          onChange={(e) => setEvent(e.target.value as WebhookEvent)}>
          {EVENTS.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
        </select>
        <TestTarget account={account} apiKeyId={data.id} event={event} channel={channel}
          numberId={numberId} readOnly={readOnly} onChannel={setChannel} onNumber={setNumberId} />
        <label htmlFor="test-url">Send to URL (optional)</label>
        <input id="test-url" type="url" value={url} disabled={readOnly} spellCheck={false}
          placeholder="The configured webhook" onChange={(e) => setUrl(e.target.value)}
          aria-describedby="test-url-errors" />
        <button type="submit" disabled={readOnly || starting}>Send test webhook</button>
      </form>
      <FieldErrors errors={errors} field="url" id="test-url-errors" />
      <FieldErrors errors={errors} field={null} />
      <FieldErrors errors={errors} field="deliveryId" />
      <FieldErrors errors={errors} field="channel" id="test-channel-errors" />
      <FieldErrors errors={errors} field="numberId" id="test-number-errors" />
      {shown && <Timeline delivery={shown} />}
      <EarlierDeliveries deliveries={edges.map((e) => e.node)} total={data.testDeliveries.totalCount}
        readOnly={readOnly || redelivering} onFollow={follow} onRedeliver={resend} />
    </section>
  );
}
