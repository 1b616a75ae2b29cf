// Sign in with an API key and one of its secrets; sessionCreate answers with a token.
import { useState, type FormEvent } from "react";
import { graphql, useMutation } from "react-relay";
import type { SignInMutation } from "./__generated__/SignInMutation.graphql";
import type { Session } from "./session";
import { FieldErrors, type UserErrorData } from "../common/UserErrors";

const mutation = graphql`
  mutation SignInMutation($input: SessionCreateInput!) {
    sessionCreate(input: $input) {
      token
      expiresAt
      userErrors { field code message }
    }
  }
`;

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [apiKey, setApiKey] = useState("");
  const [apiSecret, setApiSecret] = useState("");
  const [role, setRole] = useState<"ADMIN" | "VIEWER">("ADMIN");
  const [errors, setErrors] = useState<readonly UserErrorData[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [commit, inFlight] = useMutation<SignInMutation>(mutation);

  function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    commit({
      variables: { input: { apiKey: apiKey.trim(), apiSecret, role } },
      onCompleted: ({ sessionCreate }) => {
        setErrors(sessionCreate.userErrors);
        if (sessionCreate.token && sessionCreate.expiresAt) {
          onSignedIn({ token: sessionCreate.token, expiresAt: sessionCreate.expiresAt, apiKey: apiKey.trim() });
        }
      },
      onError: (error) => setFailure(error.message),
    });
  }

  return (
    <main className="sign-in">
      <h1>API Settings</h1>
      <p>Sign in with an API key and one of its secrets.</p>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="signin-key">API key</label>
        <input id="signin-key" value={apiKey} onChange={(e) => setApiKey(e.target.value)}
          autoComplete="username" required spellCheck={false} />
        <FieldErrors errors={errors} field="apiKey" />
        <label htmlFor="signin-secret">API secret</label>
        <input id="signin-secret" type="password" value={apiSecret}
          onChange={(e) => setApiSecret(e.target.value)} autoComplete="current-password" required />
        <FieldErrors errors={errors} field="apiSecret" />
        <label htmlFor="signin-role">Role</label>
        <select id="signin-role" value={role} onChange={(e) => setRole(e.target.value as "ADMIN" | "VIEWER")}>
          <option value="ADMIN">Admin (read and change)</option>
          <option value="VIEWER">Viewer (read-only)</option>
        </select>
        <FieldErrors errors={errors} field={null} />
        {failure && <p role="alert" className="error">{failure}</p>}
        <button type="submit" disabled={inFlight}>Sign in</button>
      </form>
    </main>
  );
}
