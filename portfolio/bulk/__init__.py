"""Bulk work: leased, resumable jobs (cohort endorsement, CSV issuing), their pages and CLI."""
