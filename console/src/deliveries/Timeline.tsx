// A delivery's steps as a timeline: resolve, address verdict, connect, request, response,
// retry, outcome; each step's request and response can be opened.
export interface StepData {
  readonly sequence: number;
  readonly kind: string;
  readonly at: string;
  readonly attempt?: number | null;
  readonly detail?: string | null;
  readonly address?: string | null;
  readonly errorCode?: string | null;
  readonly final: boolean;
  readonly status: string;
  readonly request?: {
    readonly method: string;
    readonly url: string;
    readonly headers: readonly { readonly name: string; readonly value: string }[];
    readonly body?: string | null;
  } | null;
  readonly response?: {
    readonly statusCode: number;
    readonly headers: readonly { readonly name: string; readonly value: string }[];
    readonly body?: string | null;
    readonly durationMs: number;
  } | null;
}

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

export function Timeline({ steps, label }: { steps: readonly StepData[]; label: string }) {
  const last = steps[steps.length - 1];
  return (
    <div className="timeline">
      <ol aria-label={label}>
        {steps.map((step) => (
          <li key={step.sequence} className={`step step-${step.kind.toLowerCase()}`}>
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
        {last ? (last.final ? `Delivery ${last.status === "SUCCEEDED" ? "succeeded" : "failed"}` : "Delivering…") : "Starting…"}
      </p>
    </div>
  );
}

function headersText(headers: readonly { name: string; value: string }[]): string {
  return headers.map((h) => `${h.name}: ${h.value}`).join("\n");
}
