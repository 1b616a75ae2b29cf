// "Send test webhook": send a sample webhook of a chosen kind and watch its steps live;
// earlier deliveries are listed with Redeliver.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { graphql, useMutation, useRefetchableFragment, useRelayEnvironment } from "react-relay";
import { requestSubscription, type Disposable } from "relay-runtime";
import type { SendTestWebhook_apiKey$key } from "./__generated__/SendTestWebhook_apiKey.graphql";
import type { SendTestWebhookSubscription, WebhookEvent } from "./__generated__/SendTestWebhookSubscription.graphql";
import type { SendTestWebhookFollowSubscription } from "./__generated__/SendTestWebhookFollowSubscription.graphql";
import type { SendTestWebhookRedeliverMutation } from "./__generated__/SendTestWebhookRedeliverMutation.graphql";
import { Timeline, type StepData } from "./Timeline";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";
import { formatTime } from "../common/time";

const fragment = graphql`
  fragment SendTestWebhook_apiKey on ApiKey
  @argumentDefinitions(count: { type: "Int", defaultValue: 5 }, cursor: { type: "String" })
  @refetchable(queryName: "SendTestWebhookRefetchQuery") {
    id
    testDeliveries(first: $count, after: $cursor) @connection(key: "SendTestWebhook_testDeliveries") {
      __id
      edges { node { id event url status createdAt errorCode } }
    }
  }
`;

const stepFields = graphql`
  fragment SendTestWebhook_step on DeliveryStep @relay(mask: false) {
    deliveryId sequence kind at attempt detail address errorCode final status
    request { method url headers { name value } body }
    response { statusCode headers { name value } body durationMs }
  }
`;
void stepFields;

const sendSubscription = graphql`
  subscription SendTestWebhookSubscription($input: TestWebhookInput!) {
    testWebhook(input: $input) { ...SendTestWebhook_step @relay(mask: false) }
  }
`;

const followSubscription = graphql`
  subscription SendTestWebhookFollowSubscription($deliveryId: ID!) {
    deliverySteps(deliveryId: $deliveryId) { ...SendTestWebhook_step @relay(mask: false) }
  }
`;

const redeliverMutation = graphql`
  mutation SendTestWebhookRedeliverMutation($input: TestDeliveryRedeliverInput!, $connections: [ID!]!) {
    testDeliveryRedeliver(input: $input) {
      delivery @prependNode(connections: $connections, edgeTypeName: "TestDeliveryEdge") {
        id event url status createdAt errorCode
      }
      userErrors { field code message }
    }
  }
`;

const EVENTS: [WebhookEvent, string][] = [
  ["DELIVERY_RECEIPT", "Delivery receipt (DLR)"],
  ["INBOUND_SMS", "Inbound SMS"],
  ["MESSAGE_STATUS", "Message status"],
  ["INBOUND_MESSAGE", "Inbound message"],
];

export function SendTestWebhook({ apiKey, readOnly }: { apiKey: SendTestWebhook_apiKey$key; readOnly: boolean }) {
  const [data, refetch] = useRefetchableFragment(fragment, apiKey);
  const environment = useRelayEnvironment();
  const [event, setEvent] = useState<WebhookEvent>("DELIVERY_RECEIPT");
  const [url, setUrl] = useState("");
  const [steps, setSteps] = useState<StepData[] | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const running = useRef<Disposable | null>(null);
  const [redeliver] = useMutation<SendTestWebhookRedeliverMutation>(redeliverMutation);
  useEffect(() => () => running.current?.dispose(), []);

  const sink = {
    onNext: (step: StepData | null | undefined) => {
      if (!step) return;
      setSteps((s) => [...(s ?? []), step]);
      if (step.final) refetch({}, { fetchPolicy: "network-only" });
    },
    onError: (error: Error) => setErrors([{ field: null, code: "ERROR", message: error.message }]),
  };

  function send(e: FormEvent) {
    e.preventDefault();
    running.current?.dispose();
    setErrors([]);
    setSteps([]);
    running.current = requestSubscription<SendTestWebhookSubscription>(environment, {
      subscription: sendSubscription,
      variables: { input: { apiKeyId: data.id, event, url: url.trim() || null } },
      onNext: (r) => sink.onNext(r?.testWebhook),
      onError: sink.onError,
    });
  }

  function follow(deliveryId: string) {
    running.current?.dispose();
    setSteps([]);
    running.current = requestSubscription<SendTestWebhookFollowSubscription>(environment, {
      subscription: followSubscription,
      variables: { deliveryId },
      onNext: (r) => sink.onNext(r?.deliverySteps),
      onError: sink.onError,
    });
  }

  function resend(deliveryId: string) {
    setErrors([]);
    redeliver({
      variables: { input: { deliveryId }, connections: [data.testDeliveries.__id] },
      onCompleted: ({ testDeliveryRedeliver: r }) => {
        setErrors(r.userErrors);
        if (r.delivery) follow(r.delivery.id);
      },
      onError: sink.onError,
    });
  }

  return (
    <section className="card" aria-labelledby="test-heading">
      <h2 id="test-heading">Send test webhook</h2>
      <form onSubmit={send} aria-label="Send test webhook" className="row">
        <label htmlFor="test-event">Webhook</label>
        <select id="test-event" value={event} disabled={readOnly}
          onChange={(e) => setEvent(e.target.value as WebhookEvent)}>
          {EVENTS.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
        </select>
        <label htmlFor="test-url">Send to URL (optional)</label>
        <input id="test-url" type="url" value={url} disabled={readOnly} spellCheck={false}
          placeholder="The configured webhook" onChange={(e) => setUrl(e.target.value)} />
        <button type="submit" disabled={readOnly}>Send test webhook</button>
      </form>
      <FieldErrors errors={errors} field={null} />
      <FieldErrors errors={errors} field="deliveryId" />
      {steps && <Timeline steps={steps} label="Delivery steps" />}
      <h3>Earlier deliveries</h3>
      <ul className="deliveries">
        {data.testDeliveries.edges.map(({ node }) => (
          <li key={node.id} role="group" aria-label={`Delivery of ${formatTime(node.createdAt)}`}>
            {node.event} to {node.url}: <strong>{node.status}</strong>
            {node.errorCode && <> ({node.errorCode})</>} · {formatTime(node.createdAt)}{" "}
            <button type="button" onClick={() => follow(node.id)}>Show steps</button>{" "}
            <button type="button" onClick={() => resend(node.id)} disabled={readOnly}>Redeliver</button>
          </li>
        ))}
      </ul>
      {data.testDeliveries.edges.length === 0 && <p className="muted">No test deliveries yet.</p>}
    </section>
  );
}
