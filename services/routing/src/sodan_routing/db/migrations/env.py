from sodan_routing.db.tables import metadata
from sodan_shared.db.migrations import run_env

run_env(metadata)
