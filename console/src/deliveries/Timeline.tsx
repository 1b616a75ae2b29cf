// A delivery's steps as a timeline: resolve, address verdict, connect, request, response,
// retry, outcome; each step's request and response can be opened. Reads the delivery from
// the store, where deliverySteps adds each step as it happens (see SendTestWebhook).
import { graphql, useFragment } from "react-relay";
import type { Timeline_delivery$key } from "./__generated__/Timeline_delivery.graphql";
import { formatTime } from "../common/time";

const fragment = graphql`
  fragment Timeline_delivery on TestDelivery {
    id
    event
    url
    status
    createdAt
    errorCode
    steps {
      id sequence kind at attempt detail address errorCode final
      request { method url headers { name value } body }
      response { statusCode headers { name value } body durationMs }
    }
  }
`;

const KIND_LABELS: Record<string, string> = {
  STARTED: "Started",
  SIGNED: "Signed",
  RESOLVED: "Resolved",
  BLOCKED: "Address blocked",
  CONNECTED: "Connected",
  REQUEST_SENT: "Request sent",
  RESPONSE: "Response",
  RETRY_SCHEDULED: "Retry scheduled",
  SUCCEEDED: "Succeeded",
  FAILED: "Failed",
};

const STATUS_TEXT: Record<string, string> = {
  PENDING: "Delivering…",
  SUCCEEDED: "Delivery succeeded",
  FAILED: "Delivery failed",
};

export function Timeline({ delivery }: { delivery: Timeline_delivery$key }) {
  const data = useFragment(fragment, delivery);
  const steps = [...data.steps].sort((a, b) => a.sequence - b.sequence);
  return (
    <div className="timeline">
      <h3>Delivery of {formatTime(data.createdAt)} to {data.url}</h3>
      <ol aria-label="Delivery steps">
        {steps.map((step) => (
          <li key={step.id} className={`step step-${step.kind.toLowerCase()}`}>
            <strong>{KIND_LABELS[step.kind] ?? step.kind}</strong>
            {step.attempt ? <span className="muted"> · attempt {step.attempt}</span> : null}
            <span className="muted"> · {new Date(step.at).toLocaleTimeString()}</span>
            {step.address && <span> · {step.address}</span>}
            {step.detail && <div>{step.detail}</div>}
            {step.errorCode && <div className="error">{step.errorCode}</div>}
            {step.request && (
              <details>
                <summary>Request: {step.request.method} {step.request.url}</summary>
                <pre>{headersText(step.request.headers)}{"\n\n"}{step.request.body ?? ""}</pre>
              </details>
            )}
            {step.response && (
              <details>
                <summary>Response: {step.response.statusCode} in {Math.round(step.response.durationMs)} ms</summary>
                <pre>{headersText(step.response.headers)}{"\n\n"}{step.response.body ?? ""}</pre>
              </details>
            )}
          </li>
        ))}
      </ol>
      <p role="status" aria-live="polite">
        {STATUS_TEXT[data.status] ?? data.status}
        {data.errorCode ? ` (${data.errorCode})` : ""}
      </p>
    </div>
  );
}

function headersText(headers: readonly { name: string; value: string }[]): string {
  return headers.map((h) => `${h.name}: ${h.value}`).join("\n");
}
