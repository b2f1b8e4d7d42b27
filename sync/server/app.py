"""The server's FastAPI application. Routers per resource join here as the sync protocol lands."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from sync import PROTOCOL_VERSION, __version__


class Health(BaseModel):
    status: str
    protocol: int
    version: str


def create_app() -> FastAPI:
    app = FastAPI(title="Osler server", version=__version__)

    @app.get("/v1/health", response_model=Health, tags=["operations"])
    def health() -> Health:
        """Liveness and the protocol version this server speaks, so a client can say "update" clearly."""
        return Health(status="ok", protocol=PROTOCOL_VERSION, version=__version__)

    return app
