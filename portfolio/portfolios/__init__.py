"""Portfolios: sections of evidence, sharing (private, by link, public), exports, and who may see
what."""
