"""Annotation quality: overlap samples, agreement between annotators, conflicts, labels likely to be wrong, and the reviewer's decisions."""
