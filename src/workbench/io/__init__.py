"""Readers of real file formats (pure: path in, arrays/DataFrames out; no database)."""
