"""People and their schools: issuers, accounts and roles, sign-in and lockout, invitations and class
rosters, password reset, learner profiles, notifications."""
