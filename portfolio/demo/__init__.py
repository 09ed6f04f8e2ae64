"""The demo school that ``credfolio demo-setup`` seeds."""
