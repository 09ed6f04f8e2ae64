"""Guardians and consent (issue 17 §3): parents and carers linked to students, which students
are minors, and the recorded consent a minor needs before anything of hers is public."""
