from sodan_shared.crypto import keyring_metadata
from sodan_shared.db.migrations import run_env

run_env(keyring_metadata)
