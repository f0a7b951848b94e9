"""pyuvm components of the GQMV testbench (items, sequences, agents, scoreboard, coverage)."""
