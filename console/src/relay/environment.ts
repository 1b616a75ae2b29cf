// One Relay environment per session: queries and mutations go over HTTP with the session's
// Bearer token, subscriptions over one graphql-ws socket carrying the same token in
// connectionParams. Documents are sent by their persisted ID (see documents.ts).
import { createClient, type Client } from "graphql-ws";
import {
  Environment,
  Network,
  Observable,
  RecordSource,
  Store,
  type GraphQLResponse,
  type RequestParameters,
  type Variables,
} from "relay-runtime";
import { documentBody } from "./documents";

export class SessionExpired extends Error {}

export interface SessionEnvironment {
  environment: Environment;
  dispose: () => void;
}

// `token` is null for the signed-out page, which only runs sessionCreate.
export function createSessionEnvironment(
  token: string | null,
  onExpired: () => void,
): SessionEnvironment {
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const socketUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const socket: Client = createClient({
    url: socketUrl,
    connectionParams: auth,
    lazy: true,
    retryAttempts: 5,
    // graphql-ws checks that a subscribe payload has a `query` string before it sends it; the
    // console names persisted documents instead, so it passes "" and drops it on the wire.
    jsonMessageReplacer: (key, value) => (key === "query" && value === "" ? undefined : value),
  });

  async function fetchQuery(
    params: RequestParameters,
    variables: Variables,
  ): Promise<GraphQLResponse> {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: {
        ...auth,
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify({ ...documentBody(params), variables }),
    });
    if (response.status === 401 && token) {
      onExpired();
      throw new SessionExpired("Your session ended: sign in again.");
    }
    return (await response.json()) as GraphQLResponse;
  }

  function subscribe(params: RequestParameters, variables: Variables) {
    return Observable.create<GraphQLResponse>((sink) =>
      socket.subscribe(
        { ...documentBody(params), query: "", variables },
        {
          next: (value) => sink.next(value as GraphQLResponse),
          error: (error) => sink.error(error instanceof Error ? error : new Error(describe(error))),
          complete: () => sink.complete(),
        },
      ),
    );
  }

  const environment = new Environment({
    network: Network.create(fetchQuery, subscribe),
    store: new Store(new RecordSource()),
  });
  return { environment, dispose: () => void socket.dispose() };
}

function describe(error: unknown): string {
  if (Array.isArray(error)) return error.map((e) => (e as { message?: string }).message).join("; ");
  if (error && typeof error === "object" && "reason" in error) {
    return String((error as { reason: unknown }).reason) || "The live connection closed.";
  }
  return "The live connection failed.";
}
