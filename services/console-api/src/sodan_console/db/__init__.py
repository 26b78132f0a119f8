"""console-api's own schema ``console``."""
