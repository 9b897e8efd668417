"""The table of pytest plugins; nothing else lives here."""

pytest_plugins = [
    "strategies.settings",  # hypothesis profiles: dev, ci, live
    "tests.plugins.emulator",  # self-tests: an in-process emulator, a client, a call
    "callrec.conformance.plugin",  # suites/: the target, calls, the webhook, results
]
