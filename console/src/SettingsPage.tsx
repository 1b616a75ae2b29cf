// The API Settings page, assembled from its sections in the seed's order. The selected key's
// sections read the key through their own fragments; account-wide parts read the account.
import { useState } from "react";
import { graphql, useLazyLoadQuery } from "react-relay";
import type { SettingsPageQuery } from "./__generated__/SettingsPageQuery.graphql";
import type { Session } from "./session/session";
import { KeySelector } from "./keys/KeySelector";
import { ApiKeySecret } from "./secrets/ApiKeySecret";
import { MessagingApiType } from "./messaging/MessagingApiType";
import { SmsWebhooks } from "./webhooks/SmsWebhooks";
import { MessagesWebhooks } from "./webhooks/MessagesWebhooks";
import { YourNumbers } from "./numbers/YourNumbers";
import { SignedWebhooks } from "./signing/SignedWebhooks";
import { Compliance } from "./compliance/Compliance";
import { SendTestWebhook } from "./deliveries/SendTestWebhook";
import { AuditLog } from "./audit/AuditLog";
import { LiveUpdates } from "./live/LiveUpdates";

const query = graphql`
  query SettingsPageQuery($key: String!) {
    viewer {
      role
      account {
        name
        ...KeySelector_account
        ...YourNumbers_account
        ...TestTarget_account
        ...Compliance_account
        ...AuditLog_account
      }
    }
    apiKey(key: $key) {
      id
      key
      ...KeySelector_apiKey
      ...ApiKeySecret_apiKey
      ...MessagingApiType_apiKey
      ...SmsWebhooks_apiKey
      ...MessagesWebhooks_apiKey
      ...SignedWebhooks_apiKey
      ...SendTestWebhook_apiKey
    }
  }
`;

export function SettingsPage({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [selectedKey, setSelectedKey] = useState(session.apiKey);
  const data = useLazyLoadQuery<SettingsPageQuery>(query, { key: selectedKey });
  const { viewer, apiKey } = data;
  const readOnly = viewer.role !== "ADMIN";

  return (
    <div className="page">
      <header className="top">
        <h1>API Settings</h1>
        <p className="account">
          {viewer.account.name} · signed in as {viewer.role === "ADMIN" ? "Admin" : "Viewer"}
        </p>
        <button type="button" onClick={onSignOut}>Sign out</button>
      </header>
      <main>
        <p className="intro">
          The API Settings page allows you to manage your API credentials, configure webhooks,
          and control SMS API behavior. Each API key has its own set of credentials and
          configuration.
        </p>
        {readOnly && (
          <p className="notice" role="note">
            Read-only: you signed in as a Viewer. Sign in as an Admin to change settings.
          </p>
        )}
        <KeySelector account={viewer.account} apiKey={apiKey ?? null} readOnly={readOnly}
          onSelect={setSelectedKey} />
        {apiKey ? (
          <>
            <LiveUpdates apiKeyId={apiKey.id} />
            <ApiKeySecret apiKey={apiKey} readOnly={readOnly} />
            <MessagingApiType apiKey={apiKey} readOnly={readOnly} />
            <SmsWebhooks apiKey={apiKey} readOnly={readOnly} />
            <MessagesWebhooks apiKey={apiKey} readOnly={readOnly} />
            <YourNumbers account={viewer.account} readOnly={readOnly} />
            <SignedWebhooks apiKey={apiKey} readOnly={readOnly} />
            <SendTestWebhook apiKey={apiKey} account={viewer.account} readOnly={readOnly} />
          </>
        ) : (
          <p role="alert">API key {selectedKey} is not one this session may see.</p>
        )}
        <Compliance account={viewer.account} />
        <AuditLog account={viewer.account} />
      </main>
    </div>
  );
}
