// Reads a key's settings afresh into the store (after a conflict, or a payload that does not
// carry the key), so every section shows what is saved now.
import { fetchQuery, graphql, type Environment } from "relay-runtime";
import type { freshSettingsQuery } from "./__generated__/freshSettingsQuery.graphql";

const query = graphql`
  query freshSettingsQuery($id: ID!) {
    node(id: $id) {
      ... on ApiKey {
        id
        ...MessagingApiType_apiKey @alias
        ...SmsWebhooks_apiKey @alias
        ...MessagesWebhooks_apiKey @alias
        ...SignedWebhooks_apiKey @alias
      }
    }
  }
`;

export function refreshSettings(environment: Environment, apiKeyId: string): Promise<unknown> {
  return fetchQuery<freshSettingsQuery>(environment, query, { id: apiKeyId }, {
    fetchPolicy: "network-only",
  }).toPromise();
}
