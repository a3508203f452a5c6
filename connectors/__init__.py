"""Channels: parse and verify inbound messages, render and send outbound ones."""
