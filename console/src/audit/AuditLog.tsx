// The audit log: who changed what and when, newest first, a page at a time.
import { graphql, usePaginationFragment } from "react-relay";
import type { AuditLog_account$key } from "./__generated__/AuditLog_account.graphql";
import { formatTime } from "../common/time";

const fragment = graphql`
  fragment AuditLog_account on Account
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" })
  @refetchable(queryName: "AuditLogPaginationQuery") {
    auditEvents(first: $count, after: $cursor) @connection(key: "AuditLog_auditEvents") {
      edges {
        node {
          id action actor role createdAt
          target {
            __typename
            ... on ApiKey { key nickname }
            ... on ApiSecret { masked }
            ... on Number { msisdn }
          }
        }
      }
    }
  }
`;

export function AuditLog({ account }: { account: AuditLog_account$key }) {
  const { data, hasNext, loadNext, isLoadingNext } = usePaginationFragment(fragment, account);
  const events = data.auditEvents.edges.map((e) => e.node);
  return (
    <section className="card" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log</h2>
      <table>
        <caption className="muted">Every change and reveal, newest first</caption>
        <thead>
          <tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">On</th><th scope="col">Actor</th><th scope="col">Role</th></tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{formatTime(e.createdAt)}</td><td>{e.action}</td><td>{describeTarget(e.target)}</td><td>{e.actor}</td><td>{e.role ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 && <p className="muted">Nothing recorded yet.</p>}
      <button type="button" onClick={() => loadNext(10)} disabled={!hasNext || isLoadingNext}>
        {hasNext ? "Load older events" : "No older events"}
      </button>
    </section>
  );
}

type Target = {
  readonly __typename: string;
  readonly key?: string;
  readonly nickname?: string | null;
  readonly masked?: string;
  readonly msisdn?: string;
} | null | undefined;

// What an event was about, in the words the page uses; gone or hidden targets show nothing.
function describeTarget(target: Target): string {
  if (!target) return "";
  switch (target.__typename) {
    case "ApiKey":
      return `API key ${target.key}${target.nickname ? ` (${target.nickname})` : ""}`;
    case "ApiSecret":
      return `API secret ${target.masked}`;
    case "Number":
      return `+${target.msisdn}`;
    default:
      return target.__typename;
  }
}
