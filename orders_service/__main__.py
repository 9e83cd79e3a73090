"""`python -m orders_service` is the `orders-service` command."""

from orders_service.cli import main

main()
