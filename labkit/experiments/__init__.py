"""Experiment recipes that a chapter and its sweep notebook share (one module per chapter)."""
