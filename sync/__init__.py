"""Everything in Osler that crosses the network: protocol, envelope, client engine, server."""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
