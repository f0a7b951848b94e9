"""Signoff checks (DRC, LVS, STA, power) and the nightly regression."""
