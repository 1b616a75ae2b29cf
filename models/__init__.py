"""Tortoise models, database configuration and migrations."""
