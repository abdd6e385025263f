"""The version string (one place; imported by the package root and the store)."""
__version__ = "0.1.0"
