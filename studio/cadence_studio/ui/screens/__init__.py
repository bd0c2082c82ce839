"""The studio's screens, one per module."""
