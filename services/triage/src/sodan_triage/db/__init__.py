"""Triage's own schema ``triage``: recent scores per client, lexicon history."""
