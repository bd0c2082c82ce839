"""Cadence Studio: the terminal app and command lines around the Cadence engine."""
