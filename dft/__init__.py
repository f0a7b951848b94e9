"""Design for test: Fault's flop cut, SAT-based stuck-at ATPG, sky130 scan chains, pattern
assembly, and gate-level proof of the chains (see ``dft/README.md``)."""
