"""COD statements: what a courier says it collected and paid back, checked against what each order says was due."""
