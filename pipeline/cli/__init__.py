"""The ``hst`` command line."""
