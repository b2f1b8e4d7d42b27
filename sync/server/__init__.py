"""The Osler relay, directory and blob store (FastAPI + SQLAlchemy Core)."""
