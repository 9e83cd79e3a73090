"""The README, checked by running it."""
