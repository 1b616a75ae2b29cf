import { Component, type ReactNode } from "react";

interface Props {
  children: ReactNode;
  onSignOut: () => void;
}

// A failed page query (network down, session refused) shows why, with a way out.
export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <main>
        <h1>API Settings</h1>
        <p role="alert">The settings could not be loaded: {this.state.error.message}</p>
        <button type="button" onClick={this.props.onSignOut}>Sign out</button>
      </main>
    );
  }
}
