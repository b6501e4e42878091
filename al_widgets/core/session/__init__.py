"""The active-learning session: the facade people call, the label book, the retrain worker, the annotation queue, the learning curve, settings and events."""
