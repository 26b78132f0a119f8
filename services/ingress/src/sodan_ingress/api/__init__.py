"""HTTP endpoints: the LINE webhook and health probes."""
