"""The Starlette app, settings, CLI, event broker and outbound HTTP."""
