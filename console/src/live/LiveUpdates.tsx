// settingsChanged: every change of the selected key, made in another tab or by another
// person, lands in the store, so each section shows it at once (fields being typed in keep
// their draft: see useVersionedDraft).
import { useMemo, useState } from "react";
import { graphql, useSubscription } from "react-relay";
import type { GraphQLSubscriptionConfig } from "relay-runtime";
import type { LiveUpdatesSubscription } from "./__generated__/LiveUpdatesSubscription.graphql";
import { formatTime } from "../common/time";

const subscription = graphql`
  subscription LiveUpdatesSubscription($apiKeyId: ID!) {
    settingsChanged(apiKeyId: $apiKeyId) {
      section
      actor
      at
      apiKey {
        id
        ...KeySelector_apiKey
        ...MessagingApiType_apiKey
        ...SmsWebhooks_apiKey
        ...MessagesWebhooks_apiKey
        ...SignedWebhooks_apiKey
      }
    }
  }
`;

export function LiveUpdates({ apiKeyId }: { apiKeyId: string }) {
  const [last, setLast] = useState<{ section: string; actor: string; at: string } | null>(null);
  const [lost, setLost] = useState<string | null>(null);
  const config = useMemo<GraphQLSubscriptionConfig<LiveUpdatesSubscription>>(
    () => ({
      subscription,
      variables: { apiKeyId },
      onNext: (response) => {
        const change = response?.settingsChanged;
        if (change) setLast({ section: change.section, actor: change.actor, at: change.at });
      },
      onError: (error) => setLost(error.message),
    }),
    [apiKeyId],
  );
  useSubscription(config);
  return (
    <p className="live muted" role="status" aria-live="polite">
      {lost
        ? `Live updates stopped: ${lost}`
        : last
          ? `Live: ${last.section} changed by ${last.actor} at ${formatTime(last.at)}`
          : "Live: changes made elsewhere appear here as they happen."}
    </p>
  );
}
