"""Python helpers shared by qparams' examples, end-to-end tests and golden-data generators.

The scripts run with Debian's /usr/bin/python3 and put this folder (the repo's python/) on sys.path
relative to their own file; `qparams.wire` holds the wire formats' bytes and float32 bits.
"""
