"""Pure business rules: orders as values, amendments, money, statuses. No I/O, no clock."""
