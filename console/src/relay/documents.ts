// What identifies a GraphQL document on the wire. relay-compiler's persistConfig writes every
// operation of the console into persisted-documents.json (ID -> text), copied into dist/ for
// the server, and leaves only the ID in the generated artifacts. So the page sends
// `documentId` (the GraphQL-over-HTTP persisted-documents convention), never query text, and
// the server can refuse any other document from a browser session
// (SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY=sessions).
import type { RequestParameters } from "relay-runtime";

export interface DocumentBody {
  documentId: string;
  operationName: string;
}

export function documentBody(params: RequestParameters): DocumentBody {
  if (params.id == null) {
    throw new Error(`${params.name} has no persisted ID: run relay-compiler (npm run relay)`);
  }
  return { documentId: `sha256:${params.id}`, operationName: params.name };
}
