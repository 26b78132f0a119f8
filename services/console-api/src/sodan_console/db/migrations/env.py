from sodan_console.db.tables import metadata
from sodan_shared.db.migrations import run_env

run_env(metadata)
