"""The learner's personal learning plan (issue 17 §1): competencies she works toward next with
target dates and milestones, her reflection journal, and comments from her assessor and
guardians."""
