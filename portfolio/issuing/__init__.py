"""Issuing and managing credentials: the issuing service (sign, store, status lists, revocation),
issuer keys in the database and key compromise, the VC-API and OAuth 2.0, badge images, remote
fetching of DID documents and status lists, the administrators' credential pages and CLI."""
