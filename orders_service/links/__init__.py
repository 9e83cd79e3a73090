"""The customer's private edit link: tokens, the page at /o/{token}, and its JSON twin under /api/public."""
