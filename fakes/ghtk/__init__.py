"""A fake GHTK OPEN_API: `server` is the Litestar app and its controls, `rules` its validation and fee table."""
