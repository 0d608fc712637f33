"""Synthetic HST messages for demos, tests and benchmarks (invented persons only)."""

from pipeline.generate.synthetic import DEFAULT_UNTIL, Generated, GeneratorConfig, generate

__all__ = ["DEFAULT_UNTIL", "Generated", "GeneratorConfig", "generate"]
