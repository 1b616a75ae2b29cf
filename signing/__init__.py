"""Pure functions: secrets, masking, encryption at rest, URL rules and webhook signatures."""
