"""Plumbing the views share: UI-thread dispatch, figure health, sparse colour values, lasso geometry, keys."""
