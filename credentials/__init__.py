"""Open Badges 3.0 / Verifiable Credentials 2.0: build, sign, verify, status lists, baking.

A library: it never imports ``portfolio`` and never touches the database or Flask
(except ``cli.py``, the command-line face of the library).
"""
