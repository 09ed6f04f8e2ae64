"""The learner's own corner: notifications, their credentials, and their data (export, account
deletion)."""
