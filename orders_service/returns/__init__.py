"""Return requests: the customer asks to bring back some of what she kept, staff approve or reject it."""
