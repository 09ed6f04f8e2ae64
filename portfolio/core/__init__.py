"""What every feature shares: the database session and its units of work, errors and error pages,
access to the audit trail, paging, Markdown, hashing, mail, rate and request limits, security
headers, request logs, metrics, PDF rendering and the template cache.  Imports no feature."""
