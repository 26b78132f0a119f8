pytest_plugins = ["sodan_shared.testing.fixtures"]
