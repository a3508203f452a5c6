"""Rasa custom actions, run by the gateway's action endpoint (rasa_sdk executor)."""
