// "Select an API key at the top": the account's keys, the selected key's Nickname, and
// Request more API keys (a new key whose first secret is shown once).
import { useState } from "react";
import { graphql, useFragment, useMutation } from "react-relay";
import type { KeySelector_account$key } from "./__generated__/KeySelector_account.graphql";
import type { KeySelector_apiKey$key } from "./__generated__/KeySelector_apiKey.graphql";
import type { KeySelectorNicknameMutation } from "./__generated__/KeySelectorNicknameMutation.graphql";
import type { KeySelectorCreateMutation } from "./__generated__/KeySelectorCreateMutation.graphql";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";
import { ShownOnce } from "../common/ShownOnce";
import { countOneMore } from "../common/connections";

const accountFragment = graphql`
  fragment KeySelector_account on Account {
    apiKeyLimit
    apiKeys(first: 100) @connection(key: "KeySelector_apiKeys") {
      __id
      totalCount
      edges { node { id key nickname isPrimary } }
    }
  }
`;

const keyFragment = graphql`
  fragment KeySelector_apiKey on ApiKey {
    id
    key
    nickname
  }
`;

const nicknameMutation = graphql`
  mutation KeySelectorNicknameMutation($input: ApiKeyUpdateInput!) {
    apiKeyUpdate(input: $input) {
      apiKey { id nickname }
      userErrors { field code message }
    }
  }
`;

const createMutation = graphql`
  mutation KeySelectorCreateMutation($input: ApiKeyCreateInput!, $connections: [ID!]!) {
    apiKeyCreate(input: $input) {
      apiKeyEdge @appendEdge(connections: $connections) {
        node { id key nickname isPrimary }
      }
      secretPlaintext
      userErrors { field code message }
    }
  }
`;

interface Props {
  account: KeySelector_account$key;
  apiKey: KeySelector_apiKey$key | null;
  readOnly: boolean;
  onSelect: (key: string) => void;
}

export function KeySelector({ account, apiKey, readOnly, onSelect }: Props) {
  const { apiKeys, apiKeyLimit } = useFragment(accountFragment, account);
  const selected = useFragment(keyFragment, apiKey);
  const keys = apiKeys.edges.map((e) => e.node);
  const [created, setCreated] = useState<{ key: string; secret: string } | null>(null);
  const [createErrors, setCreateErrors] = useState<readonly UserErrorData[]>([]);
  const [commitCreate, creating] = useMutation<KeySelectorCreateMutation>(createMutation);

  function requestMore() {
    commitCreate({
      variables: { input: {}, connections: [apiKeys.__id] },
      updater: (store, response) => {
        if (response?.apiKeyCreate.apiKeyEdge) countOneMore(store, apiKeys.__id);
      },
      onCompleted: ({ apiKeyCreate }) => {
        setCreateErrors(apiKeyCreate.userErrors);
        if (apiKeyCreate.apiKeyEdge && apiKeyCreate.secretPlaintext) {
          setCreated({ key: apiKeyCreate.apiKeyEdge.node.key, secret: apiKeyCreate.secretPlaintext });
        }
      },
      onError: (error) => setCreateErrors([{ field: null, code: "ERROR", message: error.message }]),
    });
  }

  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <div className="row">
        <label htmlFor="key-select">API key</label>
        <select id="key-select" value={selected?.key ?? ""} onChange={(e) => onSelect(e.target.value)}>
          {keys.map((k) => (
            <option key={k.id} value={k.key}>
              {k.key}{k.nickname ? ` (${k.nickname})` : ""}{k.isPrimary ? " · primary" : ""}
            </option>
          ))}
        </select>
        <span className="muted">{apiKeys.totalCount} of {apiKeyLimit} keys</span>
      </div>
      {selected && <NicknameEditor key={selected.id} apiKey={selected} readOnly={readOnly} />}
      <p>Need more API keys? Create additional keys for different environments or use cases.</p>
      <button type="button" onClick={requestMore} disabled={readOnly || creating || apiKeys.totalCount >= apiKeyLimit}>
        Request more API keys
      </button>
      <FieldErrors errors={createErrors} field={null} />
      {created && (
        <ShownOnce label={`API secret of the new key ${created.key}`} value={created.secret}
          onDone={() => setCreated(null)} />
      )}
    </section>
  );
}

function NicknameEditor({ apiKey, readOnly }: {
  apiKey: { id: string; nickname: string | null | undefined };
  readOnly: boolean;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [saved, setSaved] = useState(false);
  const [commit, saving] = useMutation<KeySelectorNicknameMutation>(nicknameMutation);
  const value = draft ?? apiKey.nickname ?? "";

  function save() {
    setSaved(false);
    commit({
      variables: { input: { apiKeyId: apiKey.id, nickname: value } },
      onCompleted: ({ apiKeyUpdate }) => {
        setErrors(apiKeyUpdate.userErrors);
        if (!apiKeyUpdate.userErrors.length) {
          setDraft(null);
          setSaved(true);
        }
      },
      onError: (error) => setErrors([{ field: null, code: "ERROR", message: error.message }]),
    });
  }

  return (
    <form className="row" onSubmit={(e) => { e.preventDefault(); save(); }}>
      <label htmlFor="nickname">Nickname</label>
      <input id="nickname" value={value} placeholder="e.g. Production" maxLength={80}
        onChange={(e) => { setDraft(e.target.value); setSaved(false); }} disabled={readOnly}
        aria-describedby="nickname-errors" />
      <button type="submit" disabled={readOnly || saving || draft === null}>Save nickname</button>
      {saved && <span role="status">Saved</span>}
      <FieldErrors errors={errors} field="nickname" id="nickname-errors" />
      <FieldErrors errors={errors} field={null} />
    </form>
  );
}
