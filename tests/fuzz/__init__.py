"""Fuzzing helpers: hypothesis strategies for hostile mail and Office files (tests/test_fuzz.py)."""
