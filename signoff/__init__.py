"""Signoff checks (DRC, LVS, STA, power) as step modules on the core's step contract; the
nightly regression, golden checks and run summary are in :mod:`flow`."""
