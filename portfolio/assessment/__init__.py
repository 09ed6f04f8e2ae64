"""Assessment: submissions, review against the rubric, mastery and the credentials it issues,
progress maps, the cohort view and its chart."""
