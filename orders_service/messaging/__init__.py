"""Notifications in the service: the messages table, consents, triggers, the relay's sender, campaigns, the API."""
