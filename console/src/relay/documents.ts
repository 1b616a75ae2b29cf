// What identifies a GraphQL document on the wire. relay-compiler's persistConfig writes every
// operation of the console into persisted-documents.json (ID -> text) and leaves only the ID
// in the generated artifacts, so the page sends `documentId` (the GraphQL-over-HTTP
// persisted-documents convention) and the server looks the text up in the same manifest.
//
// TRANSITIONAL: until the server loads the manifest, the text goes along with the ID.
import type { RequestParameters } from "relay-runtime";
import manifest from "../../persisted-documents.json";

const texts = manifest as Record<string, string>;

export interface DocumentBody {
  documentId?: string;
  query?: string;
  operationName: string;
}

export function documentBody(params: RequestParameters): DocumentBody {
  if (params.id != null) {
    return {
      documentId: `sha256:${params.id}`,
      query: texts[params.id],
      operationName: params.name,
    };
  }
  return { query: params.text ?? "", operationName: params.name };
}
