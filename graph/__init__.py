"""The Strawberry schema: types, inputs, payloads, permissions, dataloaders."""
