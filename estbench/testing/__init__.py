"""Helpers the tests and the bench scripts share (never shipped in a Space): a fast stand-in raw corpus
(`standin`) and a synthetic gold table with noisy predictions (`synthetic_gold`)."""
