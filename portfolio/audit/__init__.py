"""Reading the audit log: the administrators' page, its filters and exports, and ``credfolio audit
export``."""
