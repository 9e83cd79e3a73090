"""A fake GHN gateway: `server` is the Litestar app and its controls, `orders` its order book and rules."""
