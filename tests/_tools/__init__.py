"""Helpers for the tests: the real external renderers, wrapped for pytest."""
