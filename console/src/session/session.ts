// Where the session token lives: in memory (React state) and in this tab's sessionStorage.
// sessionStorage survives a reload of the tab but not its closing, and is not shared with
// other tabs or written to disk like localStorage, which would keep a bearer credential
// readable long after the person left. Each tab signs in on its own.
export interface Session {
  token: string;
  apiKey: string;
  expiresAt: string;
}

const STORAGE_KEY = "switchboard.session";

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    return new Date(session.expiresAt).getTime() > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}
