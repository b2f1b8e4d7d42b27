"""Osler desktop client: the Qt app, its encrypted vault and its domain logic."""
