from sodan_shared.db.migrations import run_env
from sodan_triage.db.tables import metadata

run_env(metadata)
