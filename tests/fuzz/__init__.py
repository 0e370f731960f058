"""Fuzzing helpers: hypothesis strategies for hostile mail and Office files
(tests/fuzz/test_fuzz.py)."""
