"""Simulation and research: the simulated oracle, the strategy race and the random-sampling baseline."""
