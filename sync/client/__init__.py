"""The opportunistic sync client (requests-based); it reaches local storage only through its own interface."""
