"""Tests of the bench's own tools (not of its timings: tests never assert on time)."""
