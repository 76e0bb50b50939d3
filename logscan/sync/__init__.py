"""Sync with a PostgreSQL hub: one ledger for many machines and a team (README "Sync")."""
