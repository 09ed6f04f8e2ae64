"""The competency catalogue: competencies as Open Badges achievements, rubrics, frameworks, CASE and
CSV import and export."""
