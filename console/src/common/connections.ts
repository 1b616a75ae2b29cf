import type { RecordSourceSelectorProxy } from "relay-runtime";

// @appendEdge/@prependEdge add the new edge to a connection; its totalCount goes up with it.
export function countOneMore(store: RecordSourceSelectorProxy, connectionId: string): void {
  const connection = store.get(connectionId);
  const total = connection?.getValue("totalCount");
  if (connection && typeof total === "number") connection.setValue(total + 1, "totalCount");
}
