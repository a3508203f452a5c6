"""Rasa training data and the custom NLU components for Vietnamese."""
