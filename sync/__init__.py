"""Everything in Osler that crosses the network: protocol, envelope, client engine, server."""
