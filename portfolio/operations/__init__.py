"""Running the service: ``credfolio serve`` and gunicorn settings, health probes, backup and
restore."""
