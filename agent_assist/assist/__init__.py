"""Drafting help: the offline drafter now; model providers, prompts, redaction and triage build on it."""
