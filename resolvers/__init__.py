"""The operations: plain async functions over models and signing, raising domain errors."""
