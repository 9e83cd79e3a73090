"""Settings an admin changes in the dashboard, stored in `shop_settings`, overriding the environment's."""
