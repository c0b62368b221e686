# The tutor_env fixture (a private data and cache dir, no downloads) comes from the kit.
pytest_plugins = ["tutor.testing"]
