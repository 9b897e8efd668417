"""pytest plugins of the self-tests, listed in the root conftest.py."""
