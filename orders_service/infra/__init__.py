"""The plumbing every feature shares: settings, problem details, paging, the clock, the outbox, the commit edge."""
