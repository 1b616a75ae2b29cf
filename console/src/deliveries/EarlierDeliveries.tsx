// Earlier deliveries of the selected key, newest first, each with Show steps and Redeliver.
import { formatTime } from "../common/time";

export interface DeliverySummary {
  readonly id: string;
  readonly event: string;
  readonly url: string;
  readonly status: string;
  readonly createdAt: string;
  readonly errorCode?: string | null;
}

interface Props {
  deliveries: readonly DeliverySummary[];
  total: number;
  readOnly: boolean;
  onFollow: (id: string) => void;
  onRedeliver: (id: string) => void;
}

export function EarlierDeliveries({ deliveries, total, readOnly, onFollow, onRedeliver }: Props) {
  return (
    <>
      <h3>Earlier deliveries ({total})</h3>
      <ul className="deliveries">
        {deliveries.map((d) => (
          <li key={d.id} role="group" aria-label={`${d.event} delivery of ${formatTime(d.createdAt)}`}>
            {d.event} to {d.url}: <strong>{d.status}</strong>
            {d.errorCode && <> ({d.errorCode})</>} · {formatTime(d.createdAt)}{" "}
            <button type="button" onClick={() => onFollow(d.id)}>Show steps</button>{" "}
            <button type="button" onClick={() => onRedeliver(d.id)} disabled={readOnly}>Redeliver</button>
          </li>
        ))}
      </ul>
      {deliveries.length === 0 && <p className="muted">No test deliveries yet.</p>}
    </>
  );
}
