"""What a guardian sees of their linked students, read only (issue 17 §3): the plan, the
progress map, feedback received, credentials, and the portfolios shared with them."""
