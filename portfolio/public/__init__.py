"""What anyone may see: credential pages with their live verification, the verify page,
plain-language explanations, the public JSON endpoints (DID documents, issuer profiles,
achievements, status lists, OpenAPI)."""
