"""Issuer keys and identity: Ed25519 keys, Multikey, did:key and did:web, encryption at rest.

The lowest layer of the service: it imports neither ``credentials`` nor ``portfolio``.
"""
