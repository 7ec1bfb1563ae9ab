"""The version of aekit (pyproject.toml says the same)."""

LAYER = "base"  # below every layer: any layer may import it

__version__ = "0.1.0"
