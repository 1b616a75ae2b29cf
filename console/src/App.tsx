// Signed out: the sign-in form. Signed in: the settings page, on an environment that carries
// the session's token. Signing out drops the environment (and its socket) with the token.
import { Suspense, useState } from "react";
import { RelayEnvironmentProvider } from "react-relay";
import { createSessionEnvironment, type SessionEnvironment } from "./relay/environment";
import { loadSession, saveSession, type Session } from "./session/session";
import { SignIn } from "./session/SignIn";
import { SettingsPage } from "./SettingsPage";
import { ErrorBoundary } from "./common/ErrorBoundary";

interface Current {
  session: Session | null;
  env: SessionEnvironment;
}

export function App() {
  const [current, setCurrent] = useState<Current>(() => start(loadSession()));

  function start(session: Session | null): Current {
    saveSession(session);
    return { session, env: createSessionEnvironment(session?.token ?? null, signOut) };
  }

  function switchTo(session: Session | null) {
    setCurrent((previous) => {
      previous.env.dispose();
      return start(session);
    });
  }

  function signOut() {
    switchTo(null);
  }

  const { session, env } = current;
  return (
    <RelayEnvironmentProvider environment={env.environment}>
      {session ? (
        <ErrorBoundary onSignOut={signOut}>
          <Suspense fallback={<p role="status">Loading your API settings…</p>}>
            <SettingsPage session={session} onSignOut={signOut} />
          </Suspense>
        </ErrorBoundary>
      ) : (
        <SignIn onSignedIn={switchTo} />
      )}
    </RelayEnvironmentProvider>
  );
}
