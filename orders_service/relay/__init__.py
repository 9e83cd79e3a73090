"""The outbox relay: claims due messages, runs their handlers, retries with backoff and jitter."""
