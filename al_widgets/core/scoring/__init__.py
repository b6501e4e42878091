"""Uncertainty per sample from the current model: probabilities, least confidence, margin, entropy, committees and the epistemic/aleatoric split; the scoring context every strategy reads."""
