"""The table of pytest plugins; nothing else lives here."""

pytest_plugins = ["strategies.settings", "tests.plugins.emulator"]
